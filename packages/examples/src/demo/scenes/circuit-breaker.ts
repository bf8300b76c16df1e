/**
 * Scene 11: circuit-breaker overflow. `pricing-destination-rule.yaml` gives the slow pricing
 * service (about 300 ms per answer) one connection and two pending requests. Bursts of ten
 * concurrent requests: one is sent, two wait for the connection, and the other seven fail at
 * once with `DABBA_OVERFLOW` (Envoy's `UO`) without reaching the instance, which never sees a
 * second connection (its own peak, over IPC).
 */
import { bar } from '../display.ts';
import { SLOW_MS } from '../instance-mode.ts';
import { SLOW_PRICING } from '../topology.ts';
import { median, type Outcome, sendCounting } from '../traffic.ts';
import { repeat, type Scene } from './scene.ts';

const URL = 'http://pricing:8080/quote';
/** The DestinationRule's connectionPool. */
export const POOL = Object.freeze({ maxConnections: 1, http1MaxPendingRequests: 2 });
const BURSTS = 3;
const BURST_SIZE = 10;
/** Served per burst: one request per connection (HTTP/1.1), plus the pending ones. */
const ADMITTED = POOL.maxConnections + POOL.http1MaxPendingRequests;
/** A refusal sends nothing and waits for nothing: anything near a round trip would be queueing. */
const FAIL_FAST_MS = 50;

const overflowed = (o: Outcome) => o.errorCode === 'DABBA_OVERFLOW' && o.responseFlag === 'UO';

export const circuitBreakerScene: Scene = async (ctx) => {
  const { display, fleet } = ctx;
  display.line(display.bold('11. Circuit breaking') + display.dim('  (pricing-destination-rule.yaml)'));
  display.line(
    `   pricing answers after ${SLOW_MS} ms; maxConnections ${POOL.maxConnections}, http1MaxPendingRequests ${POOL.http1MaxPendingRequests}; bursts of ${BURST_SIZE} concurrent requests`,
  );
  const start = await fleet.stats(SLOW_PRICING);
  const outcomes: Outcome[] = [];
  for (let b = 1; b <= BURSTS; b++) {
    // All at once, whatever the display's pace: the point is how many arrive together.
    const burst = await sendCounting({
      dispatcher: ctx.mesh,
      requests: repeat(BURST_SIZE, { url: URL }),
      concurrency: BURST_SIZE,
      signal: ctx.signal,
      onProgress: (o, total) =>
        display.progress(
          `  burst ${b}/${BURSTS} [${bar(o.length / total, 24)}] ${o.length}/${total}  served ${o.filter((x) => x.status === 200).length}  refused ${o.filter(overflowed).length}`,
        ),
    });
    outcomes.push(...burst);
    const served = burst.filter((o) => o.status === 200);
    const refused = burst.filter(overflowed);
    display.line(
      `   burst ${b}: ${served.length} served (after ${served
        .map((o) => Math.round(o.latencyMs))
        .sort((x, y) => x - y)
        .join(
          ', ',
        )} ms), ${refused.length} refused with DABBA_OVERFLOW (UO) after ${median(refused.map((o) => o.latencyMs)).toFixed(1)} ms (median)`,
    );
  }
  const end = await fleet.stats(SLOW_PRICING);
  const served = outcomes.filter((o) => o.status === 200);
  const refused = outcomes.filter(overflowed);
  const other = outcomes.length - served.length - refused.length;
  const refusedMs = median(refused.map((o) => o.latencyMs));
  const servedMaxMs = Math.round(Math.max(0, ...served.map((o) => o.latencyMs)));
  const reached = end.requests - start.requests;
  display.line(
    `   ${SLOW_PRICING} received ${reached} requests${reached === served.length ? ', exactly the served ones: no refused request reached it' : ''}; at most ${end.peakConnections} connection${end.peakConnections === 1 ? '' : 's'} open at once`,
  );
  const ok =
    served.length === BURSTS * ADMITTED &&
    refused.length === BURSTS * (BURST_SIZE - ADMITTED) &&
    other === 0 &&
    refusedMs < FAIL_FAST_MS &&
    servedMaxMs >= ADMITTED * SLOW_MS - 20 &&
    reached === served.length &&
    end.peakConnections === POOL.maxConnections;
  display.line(
    `   ${ok ? display.good(`${ADMITTED} of ${BURST_SIZE} admitted per burst, the rest refused at once`) : display.bad('off')}`,
  );
  return {
    name: 'circuit-breaker',
    configured: `pricing: maxConnections ${POOL.maxConnections}, pending ${POOL.http1MaxPendingRequests}`,
    measured: `${served.length} of ${outcomes.length} served, ${refused.length} UO in ${refusedMs.toFixed(1)} ms (median), peak ${end.peakConnections} connection`,
    ok,
    fields: {
      bursts: BURSTS,
      concurrent: BURST_SIZE,
      served: served.length,
      overflowed: refused.length,
      'other-errors': other,
      'overflow-median-ms': refusedMs.toFixed(1),
      'served-max-ms': servedMaxMs,
      'instance-requests': reached,
      'peak-connections': end.peakConnections,
    },
  };
};
