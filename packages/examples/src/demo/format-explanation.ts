/**
 * `mesh.explain()` as text an operator can read: the route that matched, each weighted
 * cluster with its share and LB policy, and its endpoints by priority with the load each
 * priority receives, in the order Envoy would consider them.
 */
import type { Explanation } from '@dabba/client';

export interface FormatExplanationOptions {
  /** Names an endpoint (e.g. the instance behind a port); default `address:port`. */
  readonly nameOf?: (address: string, port: number) => string | undefined;
  /** Indentation of every line. Default 3 spaces. */
  readonly indent?: string;
}

/** Lines describing `e`, without trailing newlines. */
export function formatExplanation(e: Explanation, options: FormatExplanationOptions = {}): string[] {
  const pad = options.indent ?? '   ';
  const r = e.request;
  const lines = [
    `${r.method} ${r.authority}${r.path}${r.query ? `?${r.query}` : ''}  (snapshot ${e.snapshotVersion})`,
    `listener      ${e.listener ? `port ${e.listener.port}, route configuration "${e.listener.routeConfiguration}"` : 'none'}`,
    `virtual host  ${e.virtualHost ?? 'none'}`,
    `route         ${e.route ? `#${e.route.index}${e.route.name ? ` "${e.route.name}"` : ''}` : 'none'}`,
    `outcome       ${e.outcome}${e.error ? `: ${e.error.code}${e.error.responseFlag ? ` (${e.error.responseFlag})` : ''} ${e.error.message}` : ''}${e.local ? `: local response ${e.local.status}` : ''}`,
  ];
  if (e.hash !== undefined) lines.push(`hash          ${e.hash}`);
  for (const c of e.clusters) {
    lines.push(`cluster       ${c.name}`);
    lines.push(
      `  weight ${c.weight} (${c.sharePercent}% of requests), ${c.lbPolicy}, panic threshold ${c.panicThresholdPercent}%, overprovisioning ${c.overprovisioningFactor}`,
    );
    for (const p of c.priorities) {
      lines.push(
        `  priority ${p.priority}: ${p.loadPercent}% of load, health ${p.healthPercent}%${p.panic ? ', PANIC' : ''}`,
      );
      for (const l of p.localities) {
        for (const ep of l.endpoints) {
          const name = options.nameOf?.(ep.address, ep.port);
          const o = ep.outlier;
          const ejected = o?.ejected
            ? `  ejected (${o.ejections}x)${o.returnsInMs === undefined ? '' : `, back in ~${o.returnsInMs} ms`}`
            : '';
          lines.push(
            `    ${(l.locality || '(no locality)').padEnd(20)} ${`${ep.address}:${ep.port}`.padEnd(16)} ${ep.health.padEnd(9)} ${name ?? ''}${ejected}`.trimEnd(),
          );
        }
      }
    }
  }
  return lines.map((line) => pad + line);
}
