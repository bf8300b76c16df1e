/**
 * Scene 9: locality failover. shipping runs in us-east-1a (the client's zone), us-east-1b and
 * us-west-1a; `shipping-destination-rule.yaml` sets outlier detection, which turns on Istio's
 * locality failover. All traffic stays in us-east-1a until that instance goes bad and is
 * ejected; then it moves to the next priority, us-east-1b (same region), not to us-west; and it
 * comes back to us-east-1a once the instance has recovered and its ejection time has passed.
 */
import { CLIENT_LOCALITY, SHIPPING_IN_ZONE } from '../topology.ts';
import { type Outcome, percent } from '../traffic.ts';
import { untilReturned } from './ejection.ts';
import { CONSECUTIVE_5XX } from './outlier-ejection.ts';
import { driveCounting, repeat, type Scene } from './scene.ts';

const URL = 'http://shipping:8080/ship';
const EAST_B = 'us-east/us-east-1b';
const WEST_A = 'us-west/us-west-1a';

/** The locality of the instance that answered, from its name (`shipping-2-east-1b`). */
function zoneOf(o: Outcome): string | undefined {
  const zone = o.instance?.split('-').slice(-2).join('-');
  return zone ? `us-${zone.split('-')[0]}/us-${zone}` : undefined;
}

function share(outcomes: readonly Outcome[], locality: string): string {
  const ok = outcomes.filter((o) => o.status === 200);
  return percent(ok.filter((o) => zoneOf(o) === locality).length, ok.length);
}

export const localityFailoverScene: Scene = async (ctx) => {
  const { display, fleet, mesh } = ctx;
  display.line(display.bold('9. Locality failover') + display.dim('  (shipping-destination-rule.yaml)'));
  display.line(`   client in ${CLIENT_LOCALITY}; shipping in us-east-1a, us-east-1b and us-west-1a`);
  const live = (o: readonly Outcome[]) =>
    `1a ${share(o, CLIENT_LOCALITY)}  1b ${share(o, EAST_B)}  west ${share(o, WEST_A)}`;
  const line = (label: string, o: readonly Outcome[]) =>
    display.line(
      `   ${label.padEnd(22)} ${CLIENT_LOCALITY} ${share(o, CLIENT_LOCALITY)}, ${EAST_B} ${share(o, EAST_B)}, ${WEST_A} ${share(o, WEST_A)} (${o.length} requests)`,
    );

  const before = await driveCounting(ctx, 'healthy ', repeat(100, { url: URL }), live, { concurrency: 4 });
  line('healthy:', before);

  await fleet.setMode(SHIPPING_IN_ZONE, 'down');
  const failing = await driveCounting(ctx, '1a bad  ', repeat(100, { url: URL }), live, {
    concurrency: 1,
    minDurationMs: 500,
  });
  const failed = failing.filter((o) => o.status !== 200).length;
  const ejectedAt = failing.findLast((o) => o.status !== 200)?.endedAt ?? performance.now();
  const moved = failing.filter((o) => o.status === 200);
  line(`1a bad (${failed} failed):`, moved);
  const e = mesh.explain({ url: URL });
  const loads = e.clusters[0]?.priorities.map((p) => `${p.loadPercent}%`) ?? [];
  display.line(`   mesh.explain(): load by priority ${loads.join(' / ')} (1a / 1b / west)`);

  await fleet.setMode(SHIPPING_IN_ZONE, 'healthy');
  const waiting = await untilReturned(ctx, URL, SHIPPING_IN_ZONE, 5600);
  const returnedAfterMs = Math.round(performance.now() - ejectedAt);
  line('1a recovered, ejected:', waiting.outcomes);
  const after = await driveCounting(ctx, 'returned', repeat(100, { url: URL }), live, { concurrency: 4 });
  line(`back after ${returnedAfterMs} ms:`, after);

  const ok =
    share(before, CLIENT_LOCALITY) === '100.0%' &&
    failed === CONSECUTIVE_5XX &&
    share(moved, EAST_B) === '100.0%' &&
    share(waiting.outcomes, EAST_B) === '100.0%' &&
    waiting.returned &&
    share(after, CLIENT_LOCALITY) === '100.0%';
  display.line(
    `   ${ok ? display.good('us-east-1a -> us-east-1b while ejected -> us-east-1a; never us-west') : display.bad('off')}`,
  );
  return {
    name: 'locality-failover',
    configured: 'shipping: failover 1a -> 1b (outlierDetection)',
    measured: `1a ${share(before, CLIENT_LOCALITY)}; while ejected 1b ${share(moved, EAST_B)}; then 1a ${share(after, CLIENT_LOCALITY)}`,
    ok,
    fields: {
      'before-in-zone': share(before, CLIENT_LOCALITY),
      failed,
      'ejected-east-1b': share(moved, EAST_B),
      'ejected-west': share(moved, WEST_A),
      'returned-after-ms': returnedAfterMs,
      'after-in-zone': share(after, CLIENT_LOCALITY),
    },
  };
};
