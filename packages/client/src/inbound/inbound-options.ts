import { ConfigError, type ConfigIssue } from '../errors.ts';
import { DEFAULT_MAX_PEERS } from '../telemetry/peer-metadata/peer-label-cache.ts';

/** Options of `mesh.inbound(listener, options)`. All optional. */
export interface InboundOptions {
  /**
   * The port this server listens on (the workload's target port). With it, the
   * `destination_service*` labels name the mesh service whose endpoints are this workload on that
   * port, as Istio's inbound cluster carries them; without it (or with no such service) they fall
   * back to this workload's canonical service name, as Istio does when the inbound cluster has
   * no service. Default: none.
   */
  readonly port?: number;
  /**
   * Distinct calling workloads (by their `source_*` labels) recorded under their own labels;
   * callers beyond the first `maxPeers` are recorded as `unknown`, so request data cannot grow the
   * number of series without bound. Default 100.
   */
  readonly maxPeers?: number;
}

/** {@link InboundOptions} with every field resolved. */
export interface ResolvedInboundOptions {
  readonly port: number | undefined;
  readonly maxPeers: number;
}

const KEYS = new Set(['port', 'maxPeers']);
const SOURCE = 'mesh.inbound options';

/**
 * Validates inbound options once, when the listener is created.
 *
 * @throws ConfigError (`DABBA_CONFIG_INVALID`) listing every problem.
 */
export function resolveInboundOptions(options: InboundOptions | undefined): ResolvedInboundOptions {
  if (options === undefined) return DEFAULTS;
  const issues: ConfigIssue[] = [];
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new ConfigError([{ source: SOURCE, path: '', message: 'must be an object' }]);
  }
  for (const key of Object.keys(options)) {
    if (!KEYS.has(key)) {
      issues.push({ source: SOURCE, path: key, message: `unknown option (known: ${[...KEYS].join(', ')})` });
    }
  }
  const { port, maxPeers } = options;
  if (port !== undefined && !(Number.isInteger(port) && port >= 1 && port <= 65535)) {
    issues.push({
      source: SOURCE,
      path: 'port',
      message: `must be a port number 1-65535, got ${String(port)}`,
    });
  }
  if (maxPeers !== undefined && !(Number.isSafeInteger(maxPeers) && maxPeers >= 0)) {
    issues.push({
      source: SOURCE,
      path: 'maxPeers',
      message: `must be a whole number of peers, 0 or more, got ${String(maxPeers)}`,
    });
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({ port, maxPeers: maxPeers ?? DEFAULT_MAX_PEERS });
}

const DEFAULTS: ResolvedInboundOptions = Object.freeze({ port: undefined, maxPeers: DEFAULT_MAX_PEERS });
