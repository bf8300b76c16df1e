/**
 * Latency at a fixed request rate, raw undici and the mesh interleaved in one run: every
 * millisecond one request goes to each (which first alternates), so both see the same moments
 * of the upstream, the machine and the garbage collector. A closed loop at full load measures
 * throughput; this measures what a service at a steady 1,000 requests per second sees, where
 * the tail comes from what each request leaves to the garbage collector.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import type { LoadTarget } from './load-round.ts';
import { percentile } from './stats.ts';

export interface FixedRateSide {
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly requests: number;
  readonly errors: number;
}

export interface FixedRateResult {
  readonly rps: number;
  readonly raw: FixedRateSide;
  readonly mesh: FixedRateSide;
}

async function timed(target: LoadTarget, into: number[], errors: { n: number }): Promise<void> {
  const t0 = performance.now();
  try {
    const res = await request(target.url, { dispatcher: target.dispatcher });
    await res.body.dump();
    if (res.statusCode !== 200) errors.n++;
  } catch {
    errors.n++;
  }
  into.push(performance.now() - t0);
}

function side(latencies: number[], errors: number): FixedRateSide {
  const sorted = Float64Array.from(latencies).sort();
  return {
    p50Ms: percentile(sorted, 50),
    p90Ms: percentile(sorted, 90),
    p99Ms: percentile(sorted, 99),
    requests: latencies.length,
    errors,
  };
}

/** `rps` requests per second to each of `raw` and `mesh` for `durationMs`. */
export async function runFixedRate(
  raw: LoadTarget,
  mesh: LoadTarget,
  rps: number,
  durationMs: number,
): Promise<FixedRateResult> {
  const rawLatencies: number[] = [];
  const meshLatencies: number[] = [];
  const rawErrors = { n: 0 };
  const meshErrors = { n: 0 };
  const inFlight: Promise<void>[] = [];
  const interval = 1000 / rps;
  const start = performance.now();
  for (let i = 0; ; i++) {
    // Scheduled against the start, so a late tick does not slow the rate down.
    const due = start + i * interval;
    if (due - start >= durationMs) break;
    const wait = due - performance.now();
    if (wait > 1) await sleep(Math.floor(wait));
    const pair =
      i % 2 === 0
        ? [timed(raw, rawLatencies, rawErrors), timed(mesh, meshLatencies, meshErrors)]
        : [timed(mesh, meshLatencies, meshErrors), timed(raw, rawLatencies, rawErrors)];
    inFlight.push(...pair);
    if (inFlight.length > 4096) await Promise.all(inFlight.splice(0, 2048));
  }
  await Promise.all(inFlight);
  return { rps, raw: side(rawLatencies, rawErrors.n), mesh: side(meshLatencies, meshErrors.n) };
}
