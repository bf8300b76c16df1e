/**
 * The failure path: what the client spends when resilience fires. One mesh holds four copies of
 * the routed service on the same four upstream ports, and four modes run in interleaved rounds
 * whose order rotates (as in throughput.ts):
 * - `baseline`: the resilient policy, every answer 200: the cost of a request that succeeds first;
 * - `retry`: the upstream answers 503 to 25% of attempts; retried on 5xx under a retry budget;
 * - `overflow`: the active-request limit (8) is far below the 64 requests in flight, so most
 *   requests are refused with `UO` before anything is sent;
 * - `eject`: one of the four endpoints answers 503 to everything; outlier detection ejects it.
 * A `refuse` mode times the same loop against a dispatcher that fails every request at once, the
 * floor under any fail-fast path (undici's `request()` promise, an Error with a stack, the loop).
 *
 * The client reports no attempt counts, so the upstream counts what it served (`/__counts`).
 * Costs are the extra client CPU of a round over what its requests would have cost in the paired
 * baseline round, divided by the events that caused it: see the comments on each figure.
 */
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Dispatcher, Pool, request } from 'undici';
import { createMeshFolder } from '../support/mesh-folder.ts';
import type { Pinning } from './cpu-pinning.ts';
import {
  EJECT,
  EJECT_HOST,
  OVERFLOW,
  OVERFLOW_HOST,
  RESILIENT,
  RESILIENT_HOST,
  RETRY_FAIL_PERCENT,
  RETRY_HOST,
  RETRY_WITH_BUDGET,
} from './resilience-config.ts';
import { median, type Spread, spread } from './stats.ts';
import { REQUEST_PATH, routedServiceYaml, SERVICE_PORT } from './throughput-config.ts';
import { startUpstreamProcess } from './upstream-process.ts';

export const FAILURE_MODES = ['baseline', 'retry', 'overflow', 'eject', 'refuse'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

export interface FailureOptions {
  readonly rounds: number;
  readonly roundMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
}

/** One round of one mode: what the caller saw, what the upstream served, and the client CPU. */
export interface FailureRound {
  readonly requests: number;
  /** Responses with status 200. */
  readonly ok: number;
  /** Responses with another status (a 503 the retries did not hide). */
  readonly non200: number;
  /** Rejections, by error code. */
  readonly errors: Readonly<Record<string, number>>;
  /** Requests the upstream served (attempts, retries included) and how many it answered 503. */
  readonly upstreamAttempts: number;
  readonly upstreamFailed: number;
  readonly seconds: number;
  readonly cpuUs: number;
}

export interface FailureResult {
  readonly options: FailureOptions;
  readonly rounds: Readonly<Record<FailureMode, readonly FailureRound[]>>;
  /** Client CPU per request of the baseline (every request succeeds first time). */
  readonly baselineCpuUsPerRequest: Spread;
  /**
   * Retry mode: (round CPU - baseline CPU/req x requests) / 503 answers received. One failed
   * attempt's whole cost: its HTTP exchange, the retry decision, budget check, backoff timer, the
   * re-pick and the extra attempt's dispatch. Compare with the baseline CPU/request.
   */
  readonly retryCpuUsPerFailedAttempt: Spread;
  /** Retry mode: share of attempts answered 503, and share of requests whose caller still saw 503. */
  readonly retryFailedAttemptShare: number;
  readonly retryCallerFailureShare: number;
  /** Retry mode: retries / requests (attempts beyond the first, counted by the upstream). */
  readonly retriesPerRequest: number;
  /**
   * Overflow mode: (round CPU - baseline CPU/req x requests that got a response) / requests refused
   * with UO. Includes the caller's side: undici's `request()` promise, the rejection, the loop.
   */
  readonly overflowCpuUsPerRefusal: Spread;
  readonly overflowShare: number;
  /** Refuse mode: CPU per request refused at once by a dispatcher that does nothing else. */
  readonly refuseCpuUsPerRequest: Spread;
  /** Eject mode: client CPU per request minus the paired baseline's. */
  readonly ejectAddedCpuUsPerRequest: Spread;
  /** Eject mode: 503s the failing endpoint served per round (low once ejected), and caller failures. */
  readonly ejectFailedAttemptsPerRound: number;
  readonly ejectCallerFailures: number;
  /** Endpoints `explain()` showed ejected at the end (expected: 1). */
  readonly ejectedAtEnd: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/** Fails every request at once, as a breaker would, and does nothing else. */
class RefusingDispatcher extends Dispatcher {
  override dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const err = new Error('refused');
    // Asynchronous, like the mesh's refusal, so both pay for the same promise turns.
    queueMicrotask(() => handler.onResponseError?.(null as unknown as Dispatcher.DispatchController, err));
    return true;
  }
}

interface Target {
  readonly url: string;
  readonly dispatcher: Dispatcher;
}

async function upstreamCounts(pool: Pool): Promise<{ requests: number; failed: number }> {
  const res = await request('http://127.0.0.1/__counts', { dispatcher: pool });
  return (await res.body.json()) as { requests: number; failed: number };
}

/** Closed loop like load-round.ts, but tallying outcomes by status and error code. */
async function runFailureRound(
  target: Target,
  counter: Pool,
  durationMs: number,
  concurrency: number,
): Promise<FailureRound> {
  const before = await upstreamCounts(counter);
  let requests = 0;
  let ok = 0;
  let non200 = 0;
  const errors: Record<string, number> = {};
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  const worker = async () => {
    while (performance.now() < deadline) {
      requests++;
      try {
        const res = await request(target.url, { dispatcher: target.dispatcher });
        await res.body.dump();
        if (res.statusCode === 200) ok++;
        else non200++;
      } catch (err) {
        const code = (err as { code?: string }).code ?? 'other';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const after = await upstreamCounts(counter);
  return {
    requests,
    ok,
    non200,
    errors,
    upstreamAttempts: after.requests - before.requests,
    upstreamFailed: after.failed - before.failed,
    seconds,
    cpuUs: cpu.user + cpu.system,
  };
}

async function createServiceMesh(dir: string): Promise<Mesh> {
  return createMesh({
    workload: { namespace: 'default' },
    config: istioFiles(dir, { watch: false }),
    logger: null,
  });
}

export async function runFailurePath(pinning: Pinning, options: FailureOptions): Promise<FailureResult> {
  const upstream = await startUpstreamProcess(pinning, 4);
  const ports = upstream.ports;
  const folder = await createMeshFolder();
  await folder.write(
    'mesh.yaml',
    [
      routedServiceYaml(ports, RESILIENT_HOST, RESILIENT),
      routedServiceYaml(ports, RETRY_HOST, RETRY_WITH_BUDGET),
      routedServiceYaml(ports, OVERFLOW_HOST, OVERFLOW),
      routedServiceYaml(ports, EJECT_HOST, EJECT),
    ].join('---\n'),
  );
  const mesh = await createServiceMesh(folder.dir);
  const counter = new Pool(`http://127.0.0.1:${ports[0]}`, { connections: 1 });
  const refusing = new RefusingDispatcher();
  const url = (host: string, query = '') => `http://${host}:${SERVICE_PORT}${REQUEST_PATH}${query}`;
  // The last port is in subset v2: its cluster has two hosts, so ejecting one is within 50%.
  const failingPort = ports[3]!;
  const targets: Record<FailureMode, Target> = {
    baseline: { url: url(RESILIENT_HOST), dispatcher: mesh },
    retry: { url: url(RETRY_HOST, `?fail=${RETRY_FAIL_PERCENT}`), dispatcher: mesh },
    overflow: { url: url(OVERFLOW_HOST), dispatcher: mesh },
    eject: { url: url(EJECT_HOST, `?failport=${failingPort}`), dispatcher: mesh },
    refuse: { url: url(RESILIENT_HOST), dispatcher: refusing },
  };
  try {
    for (const mode of FAILURE_MODES) {
      await runFailureRound(targets[mode], counter, options.warmupMs, options.concurrency);
    }
    const rounds: Record<FailureMode, FailureRound[]> = {
      baseline: [],
      retry: [],
      overflow: [],
      eject: [],
      refuse: [],
    };
    for (let r = 0; r < options.rounds; r++) {
      for (let k = 0; k < FAILURE_MODES.length; k++) {
        const mode = FAILURE_MODES[(r + k) % FAILURE_MODES.length]!;
        gc?.();
        rounds[mode].push(
          await runFailureRound(targets[mode], counter, options.roundMs, options.concurrency),
        );
      }
    }
    const explained = mesh.explain({ url: targets.eject.url });
    let ejectedAtEnd = 0;
    for (const c of explained.clusters) {
      for (const p of c.priorities) {
        for (const l of p.localities) {
          for (const e of l.endpoints) if (e.health === 'unhealthy') ejectedAtEnd++;
        }
      }
    }
    const base = rounds.baseline.map((b) => b.cpuUs / b.requests);
    // Each figure pairs a mode's round r with baseline round r.
    const paired = (mode: FailureMode, f: (m: FailureRound, basePerReq: number) => number): Spread =>
      spread(rounds[mode].map((m, i) => f(m, base[i]!)));
    const sum = (mode: FailureMode, f: (m: FailureRound) => number) =>
      rounds[mode].reduce((n, m) => n + f(m), 0);
    const retryRequests = sum('retry', (m) => m.requests);
    const overflowOf = (m: FailureRound) => m.errors.DABBA_OVERFLOW ?? 0;
    return {
      options,
      rounds,
      baselineCpuUsPerRequest: spread(base),
      retryCpuUsPerFailedAttempt: paired(
        'retry',
        (m, b) => (m.cpuUs - b * m.requests) / Math.max(1, m.upstreamFailed),
      ),
      retryFailedAttemptShare:
        sum('retry', (m) => m.upstreamFailed) / sum('retry', (m) => m.upstreamAttempts),
      retryCallerFailureShare: sum('retry', (m) => m.requests - m.ok) / retryRequests,
      retriesPerRequest: (sum('retry', (m) => m.upstreamAttempts) - retryRequests) / retryRequests,
      overflowCpuUsPerRefusal: paired(
        'overflow',
        (m, b) => (m.cpuUs - b * (m.requests - overflowOf(m))) / Math.max(1, overflowOf(m)),
      ),
      overflowShare: sum('overflow', overflowOf) / sum('overflow', (m) => m.requests),
      refuseCpuUsPerRequest: spread(rounds.refuse.map((m) => m.cpuUs / m.requests)),
      ejectAddedCpuUsPerRequest: paired('eject', (m, b) => m.cpuUs / m.requests - b),
      ejectFailedAttemptsPerRound: median(rounds.eject.map((m) => m.upstreamFailed)),
      ejectCallerFailures: sum('eject', (m) => m.requests - m.ok),
      ejectedAtEnd,
    };
  } finally {
    await Promise.allSettled([mesh.close(), counter.close()]);
    await folder.remove();
    await upstream.stop();
  }
}
