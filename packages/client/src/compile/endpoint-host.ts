/**
 * The Host objects the cluster compiler makes: configuration (address, weight, locality, labels,
 * EDS health) fixed when compiled, and the in-flight count held in an {@link EndpointLoad}
 * shared by every Host of the same endpoint of the same cluster across snapshots. A compile
 * never writes into the hosts of the snapshot in force: an endpoint whose weight or health
 * changed gets a new Host, and keeps its count through the shared load, as Envoy's hosts keep
 * theirs across an EDS update.
 */
import type { Host, HostHealth, Locality } from '../lb/host.ts';

/** Requests in flight to one endpoint of one cluster. */
export interface EndpointLoad {
  active: number;
}

export class EndpointHost implements Host {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly locality: Locality;
  readonly labels: Readonly<Record<string, string>>;
  readonly health: HostHealth;
  readonly load: EndpointLoad;

  constructor(
    key: string,
    address: string,
    port: number,
    weight: number,
    locality: Locality,
    labels: Readonly<Record<string, string>>,
    health: HostHealth,
    load: EndpointLoad,
  ) {
    this.key = key;
    this.address = address;
    this.port = port;
    this.weight = weight;
    this.locality = locality;
    this.labels = labels;
    this.health = health;
    this.load = load;
  }

  get activeRequests(): number {
    return this.load.active;
  }

  set activeRequests(n: number) {
    this.load.active = n;
  }
}
