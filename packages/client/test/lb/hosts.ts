import type { Host, HostHealth } from '../../src/lb/host.ts';
import type { LocalityHostsInput } from '../../src/lb/priority-load.ts';

/** A test host `10.<p>.<i/256>.<i%256>:8080` (or with the given key). */
export function makeHost(
  key: string,
  options: { weight?: number; health?: HostHealth; zone?: string } = {},
): Host {
  const [address = key, port = '80'] = key.split(':');
  return {
    key,
    address,
    port: Number(port),
    weight: options.weight ?? 1,
    locality: { region: 'r', zone: options.zone ?? 'z', subZone: '' },
    labels: {},
    health: options.health ?? 'healthy',
    activeRequests: 0,
  };
}

/** `total` hosts of which the first `healthy` are healthy, the next `degraded` degraded. */
export function makeHosts(prefix: string, total: number, healthy: number, degraded = 0): Host[] {
  return Array.from({ length: total }, (_, i) =>
    makeHost(`${prefix}.${i}:80`, {
      health: i < healthy ? 'healthy' : i < healthy + degraded ? 'degraded' : 'unhealthy',
    }),
  );
}

/** One priority level of 100 hosts (so counts are percentages), a single locality. */
export function level(healthyPercent: number, degradedPercent = 0, prefix = 'p'): LocalityHostsInput[] {
  return [{ hosts: makeHosts(prefix, 100, healthyPercent, degradedPercent) }];
}

/** Counts picks per host key. */
export function tally(picks: Iterable<Host | undefined>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const h of picks) {
    const k = h?.key ?? 'none';
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}
