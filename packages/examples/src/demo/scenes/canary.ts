/**
 * Scene 1: a canary release. `ratings-virtual-service.yaml` sends 90% of ratings traffic to v1
 * and 10% to v2; the scene measures the split the mesh actually produces.
 */
import { driveTraffic, repeat, type Scene } from './scene.ts';
import { formatShares, versionShares, withinTolerance } from './split.ts';

/** The weights in `mesh/ratings-virtual-service.yaml`. */
export const CANARY_WEIGHTS = Object.freeze({ v1: 90, v2: 10 });
export const RATINGS_URL = 'http://ratings:9080/ratings/0';
const REQUESTS = 1000;

export const canaryScene: Scene = async (ctx) => {
  const { display } = ctx;
  display.line(display.bold('1. Canary release') + display.dim('  (ratings-virtual-service.yaml)'));
  display.line(`   VirtualService ratings: v1 weight ${CANARY_WEIGHTS.v1}, v2 weight ${CANARY_WEIGHTS.v2}`);
  const versions = Object.keys(CANARY_WEIGHTS);
  const answers = await driveTraffic(ctx, 'ratings', repeat(REQUESTS, { url: RATINGS_URL }), (a) =>
    formatShares(versionShares(a, versions)),
  );
  const shares = versionShares(answers, versions);
  const ok = withinTolerance(shares, CANARY_WEIGHTS);
  display.line(
    `   measured over ${answers.length} requests: ${formatShares(shares)}  ${ok ? display.good('matches') : display.bad('off')}`,
  );
  return {
    name: 'canary',
    configured: 'ratings v1 90% / v2 10%',
    measured: formatShares(shares),
    ok,
    fields: {
      requests: answers.length,
      v1: `${shares.get('v1')!.toFixed(1)}%`,
      v2: `${shares.get('v2')!.toFixed(1)}%`,
      configured: `${CANARY_WEIGHTS.v1}/${CANARY_WEIGHTS.v2}`,
    },
  };
};
