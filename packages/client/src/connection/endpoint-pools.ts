/**
 * Per-endpoint connection pools. A pool is created the first time a request goes to an endpoint
 * (an eager undici Pool per endpoint costs tens of kB, and most endpoints of a large mesh are
 * never called) and closed gracefully when a new snapshot no longer has the endpoint.
 *
 * A pool's origin is the request's authority (`http://reviews:9080`) while its connector dials
 * the endpoint's address. undici then writes `Host: reviews:9080` itself, from a string it built
 * once, which is what Envoy forwards upstream; adding a host header to every request instead
 * costs a copy of the headers and undici's per-header validation. An authority that is not a
 * valid URL host falls back to an endpoint-addressed pool plus an explicit host header.
 */
import { Agent, buildConnector, Dispatcher, H2CClient, Pool } from 'undici';
import { type CompiledCluster, transportOf } from '../compile/compile-cluster.ts';
import type { Host } from '../lb/host.ts';
import { type ConnectionPlan, planConnection } from './connection-plan.ts';
import { createTlsConnector } from './tls-connector.ts';
import type { TlsUnavailable } from './tls-unavailable.ts';

/**
 * A dispatcher for an endpoint that cannot be reached as its configuration requires (connection-
 * plan.ts): every request fails at once, as a connection failure, and nothing is sent.
 */
class RefusingDispatcher extends Dispatcher {
  readonly #error: TlsUnavailable;
  constructor(error: TlsUnavailable) {
    super();
    this.#error = error;
  }
  override dispatch(_options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    queueMicrotask(() => handler.onResponseError?.(null as never, this.#error));
    return true;
  }
  override close(): Promise<void>;
  override close(callback: () => void): void;
  override close(callback?: () => void): Promise<void> | void {
    if (callback) return callback();
    return Promise.resolve();
  }
  override destroy(): Promise<void>;
  override destroy(err: Error | null): Promise<void>;
  override destroy(callback: () => void): void;
  override destroy(err: Error | null, callback: () => void): void;
  override destroy(a?: Error | null | (() => void), b?: () => void): Promise<void> | void {
    const callback = typeof a === 'function' ? a : b;
    if (callback) return callback();
    return Promise.resolve();
  }
}

/** Settings that change how connections to an endpoint are made. */
function endpointKey(host: Host, cluster: CompiledCluster): string {
  return `${cluster.http2 ? 'h2c' : 'h1'}|${host.key}|${cluster.connectTimeoutMs}|${cluster.idleTimeoutMs ?? ''}|${cluster.maxRequestsPerConnection ?? ''}|${cluster.connectionsPerEndpoint ?? ''}`;
}

/** Connections a pool opened: Envoy's `upstream_cx_total` and `upstream_cx_connect_fail`. */
export interface ConnectionCounters {
  opened: number;
  connectFailed: number;
}

/** A cluster's connections, read at scrape time (cluster-stats.ts). */
export interface ClusterConnections {
  /** Connections open now (undici's `connected` clients of the cluster's pools). */
  readonly active: number;
  readonly opened: number;
  readonly connectFailed: number;
}

export interface PoolEntry {
  /** Endpoint and connection settings; pools of one endpoint for several authorities share it. */
  readonly endpointKey: string;
  /** How its connections are made (connection-plan.ts): a pool is kept while a cluster plans it. */
  readonly planKey: string;
  /** Counted by the pool's connector; connections are rare next to requests. */
  readonly connections: ConnectionCounters;
  readonly origin: string;
  readonly dispatcher: Dispatcher;
  /** Whether the pool writes the request's authority as Host; when not, the caller must. */
  readonly writesAuthority: boolean;
}

function bracket(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** The host of an authority, without its port (IPv6 brackets kept). */
function hostOf(authority: string): string {
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end === -1 ? authority : authority.slice(0, end + 1);
  }
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

/**
 * The pool origin naming `authority` (so undici writes it as Host); `https:` for a TLS pool, so
 * an HTTP/2 request says `:scheme: https`. `undefined` when the authority does not survive as a
 * URL host (a default port is dropped, a name is not valid): the caller then writes Host.
 */
function originFor(authority: string, scheme: 'http' | 'https'): string | undefined {
  try {
    const url = new URL(`${scheme}://${authority}`);
    return url.host === authority.toLowerCase() ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The pools a compiled cluster's requests have used, by host and authority, per scheme. */
interface ClusterPoolCache {
  readonly plain: WeakMap<Host, Map<string, PoolEntry>>;
  readonly secure: WeakMap<Host, Map<string, PoolEntry>>;
}

export class EndpointPools {
  readonly #pools = new Map<string, PoolEntry>();
  /** The pools of each endpoint key (one per authority and transport), for the connection stats. */
  readonly #byEndpoint = new Map<string, PoolEntry[]>();
  /**
   * Hot path: compiled cluster -> Host -> authority -> pool, no string building. By compiled
   * cluster because Host objects outlive snapshots while their cluster's TLS may change: a
   * request of an old snapshot (a retry) must never hand its pool to the new one's requests.
   */
  #cache = new WeakMap<CompiledCluster, ClusterPoolCache>();
  /** The clusters of the snapshot serving now, by name (retainOnly). */
  #current: ReadonlyMap<string, CompiledCluster> = new Map();
  #passthrough: Agent | undefined;

  /**
   * The pool that sends `authority`'s requests to `host`, created on first use. `secure`: the
   * request's scheme is `https` (it is never sent in plaintext).
   */
  get(host: Host, cluster: CompiledCluster, authority: string, secure = false): PoolEntry {
    let clusterCache = this.#cache.get(cluster);
    if (clusterCache === undefined) {
      clusterCache = { plain: new WeakMap(), secure: new WeakMap() };
      this.#cache.set(cluster, clusterCache);
    }
    const cache = secure ? clusterCache.secure : clusterCache.plain;
    let byAuthority = cache.get(host);
    const cached = byAuthority?.get(authority);
    if (cached) return cached;
    // A request of an older snapshot (a retry, a mirror) connects as the serving configuration
    // says: if its cluster's TLS changed since, the old way is gone.
    const serving = this.#current.get(cluster.name) ?? cluster;
    const endpoint = endpointKey(host, serving);
    const plan = planConnection(transportOf(serving, host), secure, serving.applicationTls);
    const key = `${endpoint}|${plan.key}|${authority}`;
    let entry = this.#pools.get(key);
    if (!entry) {
      entry = this.#create(host, serving, endpoint, authority, plan);
      this.#pools.set(key, entry);
      const same = this.#byEndpoint.get(endpoint);
      if (same === undefined) this.#byEndpoint.set(endpoint, [entry]);
      else same.push(entry);
    }
    if (!byAuthority) {
      byAuthority = new Map();
      cache.set(host, byAuthority);
    }
    byAuthority.set(authority, entry);
    return entry;
  }

  #create(
    host: Host,
    cluster: CompiledCluster,
    endpoint: string,
    authority: string,
    plan: ConnectionPlan,
  ): PoolEntry {
    const scheme = plan.kind === 'tls' ? 'https' : 'http';
    const endpointOrigin = `${scheme}://${bracket(host.address)}:${host.port}`;
    const authorityOrigin = originFor(authority, scheme);
    const connections: ConnectionCounters = { opened: 0, connectFailed: 0 };
    if (plan.kind === 'refused') {
      return {
        endpointKey: endpoint,
        planKey: plan.key,
        connections,
        origin: authorityOrigin ?? endpointOrigin,
        dispatcher: new RefusingDispatcher(plan.error),
        writesAuthority: true,
      };
    }
    const dial =
      plan.kind === 'tls'
        ? createTlsConnector({
            tls: plan.tls,
            address: host.address,
            port: host.port,
            host: hostOf(authority),
            http2: cluster.http2,
            connectTimeoutMs: cluster.connectTimeoutMs,
          })
        : buildConnector({
            timeout: cluster.connectTimeoutMs,
            ...(cluster.http2 ? { useH2c: true } : {}),
          });
    const address = host.address;
    const port = String(host.port);
    const options: Pool.Options = {
      // The origin names the authority; the connection always goes to the endpoint.
      connect: (opts, callback) =>
        dial(
          { ...opts, hostname: address, host: `${bracket(address)}:${port}`, port, protocol: 'http:' },
          (...result: buildConnector.CallbackArgs) => {
            if (result[0] === null) connections.opened++;
            else connections.connectFailed++;
            callback(...result);
          },
        ),
      ...(cluster.idleTimeoutMs !== undefined ? { keepAliveTimeout: cluster.idleTimeoutMs } : {}),
      ...(cluster.maxRequestsPerConnection ? { maxRequestsPerClient: cluster.maxRequestsPerConnection } : {}),
      // The endpoint's share of the cluster's max_connections (compile-cluster.ts
      // connectionsPerEndpoint); undici queues requests beyond it, and the cluster's request
      // admission bounds that queue by max_pending_requests.
      ...(cluster.connectionsPerEndpoint !== undefined
        ? { connections: cluster.connectionsPerEndpoint }
        : {}),
    };
    if (cluster.http2) {
      Object.assign(options, { allowH2: true });
      // Over TLS, HTTP/2 is negotiated by ALPN; in plaintext it is spoken by prior knowledge.
      if (plan.kind === 'plaintext')
        options.factory = (o, opts) => new H2CClient(o, opts as H2CClient.Options);
    }
    const origin = authorityOrigin ?? endpointOrigin;
    return {
      endpointKey: endpoint,
      planKey: plan.key,
      connections,
      origin,
      dispatcher: new Pool(origin, options),
      writesAuthority: authorityOrigin !== undefined,
    };
  }

  /** The dispatcher for PassthroughCluster: straight to the requested authority. */
  passthrough(): Dispatcher {
    this.#passthrough ??= new Agent();
    return this.#passthrough;
  }

  /**
   * The connections of the pools `cluster`'s endpoints use. A pool belongs to an endpoint and its
   * connection settings, so two clusters holding the same endpoint with the same settings (a
   * service and its subset) share it and both count its connections; Envoy's pools are per
   * cluster. Read at scrape time only.
   */
  connectionsOf(cluster: CompiledCluster): ClusterConnections {
    let active = 0;
    let opened = 0;
    let connectFailed = 0;
    for (const h of cluster.hosts) {
      const entries = this.#byEndpoint.get(endpointKey(h, cluster));
      if (entries === undefined) continue;
      for (const e of entries) {
        active += (e.dispatcher as Partial<Pool>).stats?.connected ?? 0;
        opened += e.connections.opened;
        connectFailed += e.connections.connectFailed;
      }
    }
    return { active, opened, connectFailed };
  }

  /**
   * Closes the pools no cluster in `clusters` would use any more: an endpoint gone, or connected
   * another way (its cluster's TLS changed), so nothing reaches a peer as an old snapshot said.
   */
  retainOnly(clusters: ReadonlyMap<string, CompiledCluster>): void {
    this.#current = clusters;
    const live = new Set<string>();
    for (const c of clusters.values()) {
      for (const h of c.hosts) {
        const endpoint = endpointKey(h, c);
        const transport = transportOf(c, h);
        live.add(`${endpoint}|${planConnection(transport, false, c.applicationTls).key}`);
        live.add(`${endpoint}|${planConnection(transport, true, c.applicationTls).key}`);
      }
    }
    for (const [key, entry] of this.#pools) {
      if (!live.has(`${entry.endpointKey}|${entry.planKey}`)) {
        this.#pools.delete(key);
        const same = this.#byEndpoint.get(entry.endpointKey);
        const rest = same?.filter((e) => e !== entry);
        if (rest === undefined || rest.length === 0) this.#byEndpoint.delete(entry.endpointKey);
        else this.#byEndpoint.set(entry.endpointKey, rest);
        // Graceful: requests in flight finish, then the connections close.
        entry.dispatcher.close().catch(() => {});
      }
    }
    this.#cache = new WeakMap();
  }

  /** Number of pools open now. */
  get size(): number {
    return this.#pools.size;
  }

  async close(): Promise<void> {
    const all = [...this.#pools.values()].map((e) => e.dispatcher.close());
    if (this.#passthrough) all.push(this.#passthrough.close());
    this.#pools.clear();
    this.#byEndpoint.clear();
    await Promise.allSettled(all);
  }

  async destroy(err?: Error): Promise<void> {
    const all = [...this.#pools.values()].map((e) => e.dispatcher.destroy(err ?? null));
    if (this.#passthrough) all.push(this.#passthrough.destroy(err ?? null));
    this.#pools.clear();
    this.#byEndpoint.clear();
    await Promise.allSettled(all);
  }
}
