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

export interface TrafficOptions {
  readonly dispatcher: Pick<Mesh, 'request'>;
  readonly requests: readonly PlannedRequest[];
  /** Requests in flight at once. Default 16. */
  readonly concurrency?: number;
  /** Called after each answer, with every answer so far (for a live display). */
  readonly onProgress?: (answered: readonly Answered[], total: number) => void;
  /** Spreads the requests over at least this long, for a watchable display. Default 0. */
  readonly minDurationMs?: number;
  /** Stops sending when aborted; requests in flight are abandoned. */
  readonly signal?: AbortSignal;
}

/** Sends every request and resolves with the answers in completion order. */
export async function sendTraffic(options: TrafficOptions): Promise<Answered[]> {
  const { dispatcher, requests, onProgress, signal } = options;
  const pace = options.minDurationMs ?? 0;
  const answered: Answered[] = [];
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
      const res = await dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        ...(planned.headers ? { headers: planned.headers } : {}),
        ...(signal ? { signal } : {}),
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) {
        throw new Error(`${planned.url} answered ${res.statusCode}: ${text.slice(0, 200)}`);
      }
      answered.push({ request: planned, reply: parseInstanceReply(text) });
      onProgress?.(answered, requests.length);
    }
  };
  const workers = Array.from({ length: Math.min(options.concurrency ?? 16, requests.length) }, worker);
  await Promise.all(workers);
  return answered;
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

/** `part` as a percentage of `total`, one decimal. */
export function percent(part: number, total: number): string {
  return total === 0 ? '0.0%' : `${((part / total) * 100).toFixed(1)}%`;
}
