/**
 * Sends a batch of requests through the mesh and collects who answered. The mesh is an undici
 * Dispatcher, so its own `request()` sends them, exactly as `fetch(url, { dispatcher: mesh })`
 * would route them.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { Mesh } from '@dabba/client';
import { type InstanceReply, parseInstanceReply } from './instance-reply.ts';

/** One request to send: where, and with which headers. */
export interface PlannedRequest {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A planned request and the instance that answered it. */
export interface Answered {
  readonly request: PlannedRequest;
  readonly reply: InstanceReply;
}

/**
 * What became of one request when failures are part of the show: the status (0 when the mesh
 * raised an error instead of answering), who answered, and how long it took.
 */
export interface Outcome {
  readonly request: PlannedRequest;
  readonly status: number;
  /** The instance that answered, when an instance did (a fault abort is the mesh's answer). */
  readonly instance: string | undefined;
  /** The `DabbaError` code, when the request failed without a response. */
  readonly errorCode: string | undefined;
  /** The Envoy response flag of that error (`UO`, `UH`, ...), when it has one. */
  readonly responseFlag: string | undefined;
  readonly latencyMs: number;
  /** When the answer or error came (`performance.now()`). */
  readonly endedAt: number;
}

interface BaseTrafficOptions<T> {
  readonly dispatcher: Pick<Mesh, 'request'>;
  readonly requests: readonly PlannedRequest[];
  /** Requests in flight at once. Default 16. */
  readonly concurrency?: number;
  /** Called after each result, with every result so far (for a live display). */
  readonly onProgress?: (results: readonly T[], total: number) => void;
  /** Spreads the requests over at least this long, for a watchable display. Default 0. */
  readonly minDurationMs?: number;
  /** Stops sending when aborted; requests in flight are abandoned. */
  readonly signal?: AbortSignal;
}

export type TrafficOptions = BaseTrafficOptions<Answered>;
export type OutcomeOptions = BaseTrafficOptions<Outcome>;

/**
 * Sends every request, `concurrency` at a time, and resolves with `settle`'s results in
 * completion order. `settle` sees each response (or dispatch error) and may throw to fail all.
 */
async function send<T>(
  options: BaseTrafficOptions<T>,
  settle: (planned: PlannedRequest, started: number, res: ResponseOrError) => Promise<T>,
): Promise<T[]> {
  const { dispatcher, requests, onProgress, signal } = options;
  const pace = options.minDurationMs ?? 0;
  const results: T[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      signal?.throwIfAborted();
      const index = next++;
      const planned = requests[index]!;
      const due = started + (index / requests.length) * pace - performance.now();
      if (due > 1) await delay(due, undefined, signal ? { signal } : {});
      const url = new URL(planned.url);
      const sent = performance.now();
      let res: ResponseOrError;
      try {
        res = await dispatcher.request({
          origin: url.origin,
          path: url.pathname + url.search,
          method: 'GET',
          ...(planned.headers ? { headers: planned.headers } : {}),
          ...(signal ? { signal } : {}),
        });
      } catch (error) {
        signal?.throwIfAborted();
        res = { error };
      }
      results.push(await settle(planned, sent, res));
      onProgress?.(results, requests.length);
    }
  };
  const workers = Array.from({ length: Math.min(options.concurrency ?? 16, requests.length) }, worker);
  await Promise.all(workers);
  return results;
}

type ResponseOrError = Awaited<ReturnType<Mesh['request']>> | { readonly error: unknown };

/** Sends every request and resolves with the answers; any answer other than 200 fails it. */
export function sendTraffic(options: TrafficOptions): Promise<Answered[]> {
  return send(options, async (planned, _started, res) => {
    if ('error' in res) throw res.error;
    const text = await res.body.text();
    if (res.statusCode !== 200) {
      throw new Error(`${planned.url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    return { request: planned, reply: parseInstanceReply(text) };
  });
}

/** Sends every request and resolves with what became of each, failures included. */
export function sendCounting(options: OutcomeOptions): Promise<Outcome[]> {
  return send(options, async (planned, started, res) => {
    if ('error' in res) {
      const { code, responseFlag } = (res.error ?? {}) as { code?: unknown; responseFlag?: unknown };
      if (typeof code !== 'string') throw res.error;
      return {
        request: planned,
        status: 0,
        instance: undefined,
        errorCode: code,
        responseFlag: typeof responseFlag === 'string' ? responseFlag : undefined,
        latencyMs: performance.now() - started,
        endedAt: performance.now(),
      };
    }
    await res.body.text();
    const instance = res.headers['x-instance'];
    return {
      request: planned,
      status: res.statusCode,
      instance: typeof instance === 'string' ? instance : undefined,
      errorCode: undefined,
      responseFlag: undefined,
      latencyMs: performance.now() - started,
      endedAt: performance.now(),
    };
  });
}

/** Counts answers by a key (version, instance, locality...), keys sorted. */
export function countBy(
  answers: readonly Answered[],
  key: (reply: InstanceReply) => string,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const a of answers) {
    const k = key(a.reply);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return new Map([...counts].sort(([a], [b]) => a.localeCompare(b)));
}

/** The median of `values` (the upper one of an even count); 0 for none. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : sorted[Math.floor(sorted.length / 2)]!;
}

/** `part` as a percentage of `total`, one decimal. */
export function percent(part: number, total: number): string {
  return total === 0 ? '0.0%' : `${((part / total) * 100).toFixed(1)}%`;
}
