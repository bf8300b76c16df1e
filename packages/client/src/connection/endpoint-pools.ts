/**
 * Per-endpoint connection pools. A pool is created the first time a request goes to an endpoint
 * (an eager undici Pool per endpoint costs tens of kB, and most endpoints of a large mesh are
 * never called), shared by every cluster that contains the endpoint, and closed gracefully when
 * a new snapshot no longer has the endpoint.
 */
import { Agent, type Dispatcher, H2CClient, Pool } from 'undici';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { Host } from '../lb/host.ts';

/** Settings that change how connections to an endpoint are made; part of the pool's key. */
function poolKey(host: Host, cluster: CompiledCluster): string {
  return `${cluster.http2 ? 'h2c' : 'h1'}|${host.key}|${cluster.connectTimeoutMs}|${cluster.idleTimeoutMs ?? ''}|${cluster.maxRequestsPerConnection ?? ''}`;
}

export interface PoolEntry {
  readonly key: string;
  readonly origin: string;
  readonly dispatcher: Dispatcher;
}

export class EndpointPools {
  readonly #pools = new Map<string, PoolEntry>();
  /** Cache from Host object to its pool for the cluster it was compiled in (hot path: one Map read). */
  #byHost = new WeakMap<Host, PoolEntry>();
  #passthrough: Agent | undefined;

  /** The pool for `host` as configured by `cluster`, created on first use. */
  get(host: Host, cluster: CompiledCluster): PoolEntry {
    const cached = this.#byHost.get(host);
    if (cached) return cached;
    const key = poolKey(host, cluster);
    let entry = this.#pools.get(key);
    if (!entry) {
      const bracketed = host.address.includes(':') ? `[${host.address}]` : host.address;
      const origin = `http://${bracketed}:${host.port}`;
      const options: Pool.Options = {
        connect: { timeout: cluster.connectTimeoutMs },
        ...(cluster.idleTimeoutMs !== undefined ? { keepAliveTimeout: cluster.idleTimeoutMs } : {}),
        ...(cluster.maxRequestsPerConnection
          ? { maxRequestsPerClient: cluster.maxRequestsPerConnection }
          : {}),
      };
      if (cluster.http2) {
        // undici's Pool builds the connector its clients share from its own top-level `useH2c`
        // (typed only under `h2Options`, which the connector never reads); without it the socket
        // is not marked h2 and H2CClient speaks HTTP/1.1 to the h2c server.
        Object.assign(options, { useH2c: true, allowH2: true });
        options.factory = (o, opts) => new H2CClient(o, opts as H2CClient.Options);
      }
      entry = { key, origin, dispatcher: new Pool(origin, options) };
      this.#pools.set(key, entry);
    }
    this.#byHost.set(host, entry);
    return entry;
  }

  /** The dispatcher for PassthroughCluster: straight to the requested authority. */
  passthrough(): Dispatcher {
    this.#passthrough ??= new Agent();
    return this.#passthrough;
  }

  /** Closes pools whose endpoint no cluster in `clusters` has any more. */
  retainOnly(clusters: Iterable<CompiledCluster>): void {
    const live = new Set<string>();
    for (const c of clusters) for (const h of c.hosts) live.add(poolKey(h, c));
    for (const [key, entry] of this.#pools) {
      if (!live.has(key)) {
        this.#pools.delete(key);
        // Graceful: requests in flight finish, then the connections close.
        entry.dispatcher.close().catch(() => {});
      }
    }
    this.#byHost = new WeakMap();
  }

  /** Number of pools created so far and still open. */
  get size(): number {
    return this.#pools.size;
  }

  async close(): Promise<void> {
    const all = [...this.#pools.values()].map((e) => e.dispatcher.close());
    if (this.#passthrough) all.push(this.#passthrough.close());
    this.#pools.clear();
    await Promise.allSettled(all);
  }

  async destroy(err?: Error): Promise<void> {
    const all = [...this.#pools.values()].map((e) => e.dispatcher.destroy(err ?? null));
    if (this.#passthrough) all.push(this.#passthrough.destroy(err ?? null));
    this.#pools.clear();
    await Promise.allSettled(all);
  }
}
