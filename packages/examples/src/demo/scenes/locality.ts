/**
 * Scene 4: locality preference. `reviews-destination-rule.yaml` sets outlier detection, which
 * makes Istio rank endpoints by locality relative to the caller. A client in us-east-1a is
 * served in us-east-1a, and a client in us-west-1a in us-west-1a, although both see the same
 * endpoints in all three localities.
 */
import type { Mesh } from '@dabba/client';
import { CLIENT_LOCALITY, WEST_CLIENT_LOCALITY } from '../topology.ts';
import { countBy, percent } from '../traffic.ts';
import { REVIEWS_URL } from './header-routing.ts';
import { driveTraffic, repeat, type Scene, type SceneContext } from './scene.ts';

const REQUESTS = 300;

async function measure(
  ctx: SceneContext,
  mesh: Mesh,
  locality: string,
): Promise<{ inZone: number; total: number }> {
  const answers = await driveTraffic(
    ctx,
    locality.padEnd(18),
    repeat(REQUESTS, { url: REVIEWS_URL }),
    (a) => `in-zone ${percent(a.filter((x) => x.reply.locality === locality).length, a.length)}`,
    mesh,
  );
  const byLocality = [...countBy(answers, (r) => r.locality)].map(
    ([l, n]) => `${l} ${percent(n, answers.length)}`,
  );
  const inZone = answers.filter((a) => a.reply.locality === locality).length;
  ctx.display.line(`   client in ${locality.padEnd(18)} -> ${byLocality.join(', ')}`);
  return { inZone, total: answers.length };
}

export const localityScene: Scene = async (ctx) => {
  const { display } = ctx;
  display.line(display.bold('4. Locality preference') + display.dim('  (reviews-destination-rule.yaml)'));
  display.line('   reviews runs in us-east/us-east-1a, us-east/us-east-1b and us-west/us-west-1a;');
  display.line('   outlierDetection turns on Istio locality failover: the nearest healthy zone wins');
  const east = await measure(ctx, ctx.mesh, CLIENT_LOCALITY);
  const west = await measure(ctx, await ctx.createClient(WEST_CLIENT_LOCALITY), WEST_CLIENT_LOCALITY);
  const ok = east.inZone === east.total && west.inZone === west.total;
  display.line(
    `   ${ok ? display.good("all requests stayed in the caller's zone") : display.bad('some requests left the zone')}`,
  );
  return {
    name: 'locality',
    configured: 'failover priorities from the caller',
    measured: `in-zone: east ${percent(east.inZone, east.total)}, west ${percent(west.inZone, west.total)}`,
    ok,
    fields: {
      'east-in-zone': percent(east.inZone, east.total),
      'west-in-zone': percent(west.inZone, west.total),
      requests: east.total + west.total,
    },
  };
};
