/**
 * Scene 6: why a request goes where it goes. `mesh.explain()` runs the same decision as a real
 * request, sends nothing, and tells the route, the weighted clusters, the LB policy and the
 * endpoints by priority.
 */
import { formatExplanation } from '../format-explanation.ts';
import { REVIEWS_URL } from './header-routing.ts';
import type { Scene } from './scene.ts';

export const explainScene: Scene = async (ctx) => {
  const { display, mesh } = ctx;
  display.line(display.bold('6. mesh.explain()') + display.dim('  (one request, nothing sent)'));
  const e = mesh.explain({ url: REVIEWS_URL });
  for (const line of formatExplanation(e, { nameOf: ctx.nameOf })) display.line(line);
  const top = e.clusters.map((c) => c.priorities.find((p) => p.loadPercent > 0));
  const ok = e.outcome === 'upstream' && e.clusters.length === 2 && top.every((p) => p?.priority === 0);
  const subsets = e.clusters.map((c) => `${c.name.split('|')[2]}:${c.sharePercent}%`).join(',');
  return {
    name: 'explain',
    configured: 'GET reviews:9080/reviews/1',
    measured: `route #${e.route?.index ?? '-'}, ${e.clusters.length} clusters (${subsets}), ${e.clusters[0]?.lbPolicy ?? '-'}`,
    ok,
    fields: {
      outcome: e.outcome,
      route: e.route?.index ?? '-',
      clusters: subsets,
      lb: e.clusters[0]?.lbPolicy ?? '-',
      priorities: Math.max(0, ...e.clusters.map((c) => c.priorities.length)),
    },
  };
};
