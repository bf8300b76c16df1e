/**
 * One measured round of closed-loop load: `concurrency` workers, each sending the next request
 * as soon as the last response body is consumed, for a fixed time. Records every latency and
 * the process CPU time spent, so CPU per request can be compared between dispatchers.
 */
import { performance } from 'node:perf_hooks';
import { type Dispatcher, request } from 'undici';
import { percentile } from './stats.ts';

export interface LoadTarget {
  readonly url: string;
  readonly dispatcher: Dispatcher;
}

export interface RoundResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Client process CPU (user + system, all threads) per request. */
  readonly cpuUsPerRequest: number;
}

export async function runRound(
  target: LoadTarget,
  durationMs: number,
  concurrency: number,
): Promise<RoundResult> {
  const latencies: number[] = [];
  let errors = 0;
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const res = await request(target.url, { dispatcher: target.dispatcher });
        await res.body.dump();
        if (res.statusCode !== 200) errors++;
      } catch {
        errors++;
      }
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const sorted = Float64Array.from(latencies).sort();
  const requests = latencies.length;
  return {
    requests,
    errors,
    seconds,
    rps: requests / seconds,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    cpuUsPerRequest: (cpu.user + cpu.system) / requests,
  };
}
