/**
 * Scene 10: fault injection. `catalog-virtual-service.yaml` has the mesh answer 20% of catalog
 * requests with 503 itself (nothing is sent upstream) and hold 10% for 200 ms. The scene
 * measures both rates, the delayed requests' latency, and what reached the instance.
 */
import { median, type Outcome, percent } from '../traffic.ts';
import { driveCounting, repeat, type Scene } from './scene.ts';

const URL = 'http://catalog:8080/items';
const INSTANCE = 'catalog-1-east-1a';
const REQUESTS = 1000;
/** The VirtualService's fault: abort percentage and status, delay percentage and duration. */
export const FAULT = Object.freeze({ abortPercent: 20, abortStatus: 503, delayPercent: 10, delayMs: 200 });
/** Percentage points a measured rate may differ (sd: 1.3 points at 20%, 0.95 at 10%). */
const TOLERANCE_POINTS = 5;

/** The mesh's own abort: the status, and no instance named in the answer. */
const aborted = (o: Outcome) => o.status === FAULT.abortStatus && o.instance === undefined;
/** Held by the delay fault: nothing else makes a loopback request take 90% of the delay. */
const delayed = (o: Outcome) => o.latencyMs >= FAULT.delayMs * 0.9;

export const faultInjectionScene: Scene = async (ctx) => {
  const { display, fleet } = ctx;
  display.line(display.bold('10. Fault injection') + display.dim('  (catalog-virtual-service.yaml)'));
  display.line(
    `   abort ${FAULT.abortPercent}% with ${FAULT.abortStatus}; delay ${FAULT.delayPercent}% by ${FAULT.delayMs}ms`,
  );
  const start = await fleet.stats(INSTANCE);
  const outcomes = await driveCounting(
    ctx,
    'catalog',
    repeat(REQUESTS, { url: URL }),
    (o) =>
      `aborted ${percent(o.filter(aborted).length, o.length)}  delayed ${percent(o.filter(delayed).length, o.length)}`,
    { concurrency: 32 },
  );
  const reached = (await fleet.stats(INSTANCE)).requests - start.requests;
  const nAborted = outcomes.filter(aborted).length;
  const slow = outcomes.filter(delayed);
  const delayedMs = Math.round(median(slow.map((o) => o.latencyMs)));
  const othersMs = median(outcomes.filter((o) => !delayed(o)).map((o) => o.latencyMs));
  const abortRate = (nAborted / outcomes.length) * 100;
  const delayRate = (slow.length / outcomes.length) * 100;
  display.line(
    `   aborted by the mesh: ${nAborted} of ${outcomes.length} (${percent(nAborted, outcomes.length)}); ${INSTANCE} received ${reached} = ${outcomes.length} - ${nAborted}`,
  );
  display.line(
    `   delayed: ${slow.length} (${percent(slow.length, outcomes.length)}), median ${delayedMs} ms; the others median ${othersMs.toFixed(1)} ms`,
  );
  const ok =
    Math.abs(abortRate - FAULT.abortPercent) <= TOLERANCE_POINTS &&
    Math.abs(delayRate - FAULT.delayPercent) <= TOLERANCE_POINTS &&
    delayedMs >= FAULT.delayMs &&
    delayedMs < FAULT.delayMs + 100 &&
    reached === outcomes.length - nAborted;
  display.line(`   ${ok ? display.good('matches') : display.bad('off')}`);
  return {
    name: 'fault-injection',
    configured: `catalog: abort ${FAULT.abortPercent}%, delay ${FAULT.delayMs}ms ${FAULT.delayPercent}%`,
    measured: `aborted ${percent(nAborted, outcomes.length)}, delayed ${percent(slow.length, outcomes.length)} (median ${delayedMs} ms)`,
    ok,
    fields: {
      requests: outcomes.length,
      aborted: percent(nAborted, outcomes.length),
      delayed: percent(slow.length, outcomes.length),
      'delayed-median-ms': delayedMs,
      'others-median-ms': othersMs.toFixed(1),
      'upstream-requests': reached,
    },
  };
};
