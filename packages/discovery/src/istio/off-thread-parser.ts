/**
 * Parses large YAML documents on a worker thread, so one big resource (a VirtualService with
 * thousands of routes, or a broken one that has to be parsed again to name its lines) does not
 * stall the requests of the process it configures: at about 1 µs per byte for a document with
 * a problem, a 1.5 MiB one would hold the event loop for over a second. Small documents are
 * parsed on the main thread, between turns of the event loop, where a worker would cost more
 * than it saves.
 *
 * The worker starts on first use, keeps the process alive only while a parse is owed, and is
 * started again if it dies; a document whose parse crashes the worker is reported as an issue, never thrown.
 */
import { Worker } from 'node:worker_threads';
import type { ConfigIssue } from '../errors.ts';
import type { IstioResource } from './istio-resource.ts';
import {
  appendParsed,
  attachOrigins,
  type ParsedYaml,
  type ParseOptions,
  type PlainResource,
  parseDocument,
} from './parse-istio-yaml.ts';
import type { ParseRequest } from './parse-worker.ts';
import { splitYamlDocuments, type YamlChunk } from './split-yaml-documents.ts';

/** Documents at least this large (in characters) are parsed on the worker. */
export const OFF_THREAD_CHARS = 64 * 1024;

interface ParseReply {
  readonly id: number;
  readonly resources?: PlainResource[];
  readonly issues?: ConfigIssue[];
  readonly notices?: ConfigIssue[];
  readonly error?: string;
}

// Run from the sources (`.ts`, under --conditions=dabba-source) or from the build (`.js`).
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './parse-worker.ts' : './parse-worker.js',
  import.meta.url,
);

/** The worker and the parses it owes: a worker that dies fails its own parses, no others. */
interface ParserThread {
  readonly worker: Worker;
  readonly pending: Map<number, (reply: ParseReply) => void>;
}

export class OffThreadParser {
  #thread: ParserThread | undefined;
  #nextId = 0;
  #closed = false;

  /** Parses one document on the worker. */
  parse(source: string, chunk: YamlChunk, options: ParseOptions): Promise<ParsedYaml> {
    const id = this.#nextId++;
    return new Promise<ParseReply>((resolve) => {
      if (this.#closed) return resolve({ id, error: 'the parser was closed' });
      const thread = this.#start();
      // Held while a parse is owed, so that a process waiting only for its configuration does
      // not exit with it half read; let go when none is, so that an idle worker never keeps
      // the process alive.
      if (thread.pending.size === 0) thread.worker.ref();
      thread.pending.set(id, resolve);
      thread.worker.postMessage({ id, source, chunk, options } satisfies ParseRequest);
    }).then((reply) => {
      if (reply.error !== undefined || reply.resources === undefined)
        return {
          resources: [],
          issues: [
            {
              source,
              line: chunk.lineOffset + 1,
              path: '',
              message: `YAML: ${reply.error ?? 'parse failed'}`,
            },
          ],
          notices: [],
        };
      const resources: IstioResource[] = attachOrigins(
        source,
        chunk,
        options.defaultNamespace ?? 'default',
        reply.resources,
      );
      return { resources, issues: reply.issues ?? [], notices: reply.notices ?? [] };
    });
  }

  /** Stops the worker for good; pending and later parses end with an issue. */
  close(): void {
    this.#closed = true;
    const thread = this.#thread;
    this.#thread = undefined;
    if (thread === undefined) return;
    settleAll(thread, 'the parser was closed');
    void thread.worker.terminate();
  }

  #start(): ParserThread {
    if (this.#thread !== undefined) return this.#thread;
    const thread: ParserThread = { worker: new Worker(WORKER_URL), pending: new Map() };
    const { worker, pending } = thread;
    worker.on('message', (reply: ParseReply) => {
      const done = pending.get(reply.id);
      pending.delete(reply.id);
      if (pending.size === 0) worker.unref();
      done?.(reply);
    });
    const fail = (why: string) => {
      if (this.#thread === thread) this.#thread = undefined;
      settleAll(thread, why);
    };
    worker.on('error', (err) => fail(`the parser stopped: ${err.message}`));
    worker.on('exit', (code) => fail(`the parser exited (${code})`));
    // After the listeners: attaching a 'message' listener refs the worker again.
    worker.unref();
    this.#thread = thread;
    return thread;
  }
}

function settleAll(thread: ParserThread, why: string): void {
  for (const [id, done] of thread.pending) done({ id, error: why });
  thread.pending.clear();
  thread.worker.unref();
}

/**
 * Parses a file's documents one at a time: small ones here, with `pause` giving the event loop
 * a turn between them, large ones on `offThread`. The same results as parseIstioYaml.
 */
export async function parseIstioYamlInTurns(
  source: string,
  text: string,
  options: ParseOptions,
  pause: () => Promise<void> | undefined,
  offThread: OffThreadParser | undefined,
): Promise<ParsedYaml> {
  const out = { resources: [] as IstioResource[], issues: [] as ConfigIssue[], notices: [] as ConfigIssue[] };
  for (const chunk of splitYamlDocuments(text)) {
    const parsed =
      offThread !== undefined && chunk.text.length >= OFF_THREAD_CHARS
        ? await offThread.parse(source, chunk, options)
        : parseDocument(source, chunk, options);
    appendParsed(out, parsed);
    const turn = pause();
    if (turn) await turn;
  }
  return out;
}
