/**
 * Scene 5: a configuration change while traffic flows. The demo writes the 50/50 version of the
 * ratings VirtualService (`mesh/edits/`) over the canary file, waits for the mesh to publish the
 * new snapshot, and measures the split again. No restart, no dropped request.
 */
import { CANARY_WEIGHTS, RATINGS_URL } from './canary.ts';
import { applyEdit, driveTraffic, repeat, type Scene } from './scene.ts';
import { formatShares, versionShares, withinTolerance } from './split.ts';

const EDITED_WEIGHTS = Object.freeze({ v1: 50, v2: 50 });
const BEFORE_REQUESTS = 300;
const AFTER_REQUESTS = 2000;

export const liveEditScene: Scene = async (ctx) => {
  const { display } = ctx;
  display.line(
    display.bold('5. Live configuration edit') + display.dim('  (edits/ratings-virtual-service-50-50.yaml)'),
  );
  const versions = Object.keys(EDITED_WEIGHTS);
  const live = (a: Parameters<typeof versionShares>[0]) => formatShares(versionShares(a, versions));
  const before = await driveTraffic(ctx, 'before', repeat(BEFORE_REQUESTS, { url: RATINGS_URL }), live);
  display.line(
    `   before: ${formatShares(versionShares(before, versions))} (weights ${CANARY_WEIGHTS.v1}/${CANARY_WEIGHTS.v2})`,
  );

  display.line(
    `   writing ratings-virtual-service.yaml with weights ${EDITED_WEIGHTS.v1}/${EDITED_WEIGHTS.v2}; waiting for the mesh...`,
  );
  const { previous, next, reloadMs } = await applyEdit(
    ctx,
    'ratings-virtual-service.yaml',
    'edits/ratings-virtual-service-50-50.yaml',
  );
  display.line(`   snapshot ${previous} -> ${next} serving after ${reloadMs} ms`);

  const after = await driveTraffic(ctx, 'after ', repeat(AFTER_REQUESTS, { url: RATINGS_URL }), live);
  const shares = versionShares(after, versions);
  const ok = withinTolerance(shares, EDITED_WEIGHTS);
  display.line(
    `   after:  ${formatShares(shares)} (weights ${EDITED_WEIGHTS.v1}/${EDITED_WEIGHTS.v2})  ${ok ? display.good('matches') : display.bad('off')}`,
  );
  return {
    name: 'live-edit',
    configured: 'ratings 90/10 -> 50/50 on disk',
    measured: `${formatShares(shares)} after ${reloadMs} ms`,
    ok,
    fields: {
      requests: after.length,
      v1: `${shares.get('v1')!.toFixed(1)}%`,
      v2: `${shares.get('v2')!.toFixed(1)}%`,
      configured: `${EDITED_WEIGHTS.v1}/${EDITED_WEIGHTS.v2}`,
      'reload-ms': reloadMs,
    },
  };
};
