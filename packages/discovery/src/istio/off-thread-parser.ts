/**
 * Parses large YAML documents on a worker thread, so one big resource (a VirtualService with
 * thousands of routes, or a broken one that has to be parsed again to name its lines) does not
 * stall the requests of the process it configures: at about 1 µs per byte for a document with
 * a problem, a 1.5 MiB one would hold the event loop for over a second. Small documents are
 * parsed on the main thread, between turns of the event loop, where a worker would cost more
 * than it saves.
 *
 * The worker starts on first use, does not keep the process alive, and is started again if it
 * dies; a document whose parse crashes the worker is reported as an issue, never thrown.
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

export class OffThreadParser {
  #worker: Worker | undefined;
  #nextId = 0;
  readonly #pending = new Map<number, (reply: ParseReply) => void>();

  /** Parses one document on the worker. */
  parse(source: string, chunk: YamlChunk, options: ParseOptions): Promise<ParsedYaml> {
    const worker = this.#start();
    const id = this.#nextId++;
    return new Promise<ParseReply>((resolve) => {
      this.#pending.set(id, resolve);
      worker.postMessage({ id, source, chunk, options } satisfies ParseRequest);
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

  /** Stops the worker; pending parses end with an issue. */
  close(): void {
    const worker = this.#worker;
    this.#worker = undefined;
    void worker?.terminate();
  }

  #start(): Worker {
    if (this.#worker !== undefined) return this.#worker;
    const worker = new Worker(WORKER_URL);
    worker.unref();
    worker.on('message', (reply: ParseReply) => {
      const done = this.#pending.get(reply.id);
      this.#pending.delete(reply.id);
      done?.(reply);
    });
    const fail = (why: string) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const [id, done] of this.#pending) done({ id, error: why });
      this.#pending.clear();
    };
    worker.on('error', (err) => fail(`the parser stopped: ${err.message}`));
    worker.on('exit', (code) => fail(`the parser exited (${code})`));
    this.#worker = worker;
    return worker;
  }
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
