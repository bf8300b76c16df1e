/**
 * Scene 8: outlier ejection. `payments-destination-rule.yaml` ejects an instance after three
 * 5xx in a row, for 3 s, checked every 1 s. The demo turns one of the three payments instances
 * bad: it gets three requests, is ejected (`mesh.explain()` shows it), gets none while ejected
 * although it has recovered, and gets its share again once the ejection time has passed.
 */
import { formatExplanation } from '../format-explanation.ts';
import { BAD_PAYMENTS } from '../topology.ts';
import { type Outcome, percent } from '../traffic.ts';
import { answeredBy, endpointOf, untilReturned } from './ejection.ts';
import { driveCounting, repeat, type Scene } from './scene.ts';

const URL = 'http://payments:8080/pay';
/** The DestinationRule's consecutive5xxErrors, interval and baseEjectionTime. */
export const CONSECUTIVE_5XX = 3;
const INTERVAL_MS = 1000;
const BASE_EJECTION_MS = 3000;
/** Ejected for baseEjectionTime, back at the next sweep: [3 s, 4 s], plus polling slack. */
const RETURN_WINDOW_MS = [BASE_EJECTION_MS - 200, BASE_EJECTION_MS + INTERVAL_MS + 600] as const;

export const outlierEjectionScene: Scene = async (ctx) => {
  const { display, fleet, mesh } = ctx;
  display.line(display.bold('8. Outlier ejection') + display.dim('  (payments-destination-rule.yaml)'));
  display.line(
    `   consecutive5xxErrors ${CONSECUTIVE_5XX}, interval 1s, baseEjectionTime 3s, maxEjectionPercent 100; no retries`,
  );
  const live = (o: readonly Outcome[]) =>
    `${BAD_PAYMENTS}: ${answeredBy(o, BAD_PAYMENTS)} requests, caller errors ${o.filter((x) => x.status !== 200).length}`;

  await fleet.setMode(BAD_PAYMENTS, 'down');
  const start = await fleet.stats(BAD_PAYMENTS);
  // One request at a time, so "requests before ejection" is not blurred by requests in flight.
  const failing = await driveCounting(ctx, 'bad     ', repeat(100, { url: URL }), live, {
    concurrency: 1,
    minDurationMs: 500,
  });
  const received = (await fleet.stats(BAD_PAYMENTS)).requests - start.requests;
  const callerErrors = failing.filter((o) => o.status !== 200).length;
  const lastError = failing.findLast((o) => o.status !== 200);
  const ejectedAt = lastError?.endedAt ?? performance.now();
  display.line(
    `   ${BAD_PAYMENTS} turned bad (503 to everything): it received ${received} of ${failing.length} requests, then none; the caller saw ${callerErrors} errors`,
  );
  const e = mesh.explain({ url: URL });
  const endpoint = endpointOf(ctx, e, BAD_PAYMENTS);
  const ejected = endpoint?.outlier?.ejected === true;
  display.line('   mesh.explain():');
  for (const line of formatExplanation(e, { nameOf: ctx.nameOf, indent: '     ' }).slice(5)) {
    display.line(line);
  }

  await fleet.setMode(BAD_PAYMENTS, 'healthy');
  display.line(`   ${BAD_PAYMENTS} recovered; it stays ejected until baseEjectionTime has passed`);
  const waiting = await untilReturned(ctx, URL, BAD_PAYMENTS, RETURN_WINDOW_MS[1] + 1000);
  const returnedAfterMs = Math.round(performance.now() - ejectedAt);
  const whileEjected = answeredBy(waiting.outcomes, BAD_PAYMENTS);
  display.line(
    waiting.returned
      ? `   back in the load balancer ${returnedAfterMs} ms after its ejection; it got ${whileEjected} of ${waiting.outcomes.length} requests meanwhile`
      : display.bad(`   still ejected after ${returnedAfterMs} ms`),
  );
  const after = await driveCounting(ctx, 'returned', repeat(90, { url: URL }), live, { concurrency: 1 });
  const share = answeredBy(after, BAD_PAYMENTS);
  display.line(
    `   after its return: ${BAD_PAYMENTS} answered ${percent(share, after.length)} of ${after.length} requests`,
  );

  const ok =
    received === CONSECUTIVE_5XX &&
    callerErrors === CONSECUTIVE_5XX &&
    ejected &&
    whileEjected === 0 &&
    waiting.returned &&
    returnedAfterMs >= RETURN_WINDOW_MS[0] &&
    returnedAfterMs <= RETURN_WINDOW_MS[1] &&
    share > 0;
  display.line(
    `   ${ok ? display.good('ejected after 3 errors, back after its ejection time') : display.bad('off')}`,
  );
  return {
    name: 'outlier-ejection',
    configured: 'payments: eject after 3 x 5xx for 3s',
    measured: `${received} requests before ejection, ${whileEjected} while ejected, back after ${returnedAfterMs} ms, then ${percent(share, after.length)}`,
    ok,
    fields: {
      'before-ejection': received,
      'caller-errors': callerErrors,
      ejected: ejected ? 'yes' : 'no',
      'while-ejected': whileEjected,
      'returned-after-ms': returnedAfterMs,
      'share-after': percent(share, after.length),
    },
  };
};
