/**
 * The demo's little world: which service instances run, in which version and locality. The
 * Istio YAML in `mesh/` refers to these services, versions and localities; the instances'
 * addresses become WorkloadEntries once each child process knows its port.
 */

import type { InstanceMode } from './instance-mode.ts';

/** One running instance of a service (one child process, one WorkloadEntry). */
export interface InstanceSpec {
  /** Unique name, also the WorkloadEntry name, e.g. `reviews-v1-east-1a`. */
  readonly name: string;
  /** Service name (`app` label), matching a ServiceEntry in `mesh/services.yaml`. */
  readonly service: string;
  /** `version` label, matching the DestinationRule subsets. */
  readonly version: string;
  /** Istio locality `region/zone`. */
  readonly locality: string;
  /** How the instance answers when it starts. Default `healthy`. */
  readonly mode?: InstanceMode;
}

/** Where the demo's main client runs. */
export const CLIENT_LOCALITY = 'us-east/us-east-1a';
/** Where the second client of the locality scene runs. */
export const WEST_CLIENT_LOCALITY = 'us-west/us-west-1a';

const EAST_A = 'us-east/us-east-1a';
const EAST_B = 'us-east/us-east-1b';
const WEST_A = 'us-west/us-west-1a';

function instance(
  service: string,
  version: string,
  locality: string,
  suffix: string,
  mode?: InstanceMode,
): InstanceSpec {
  const zone = locality.split('/')[1] ?? '';
  const name = `${service}-${suffix}-${zone.replace(/^us-/, '')}`;
  return { name, service, version, locality, ...(mode ? { mode } : {}) };
}

/** The inventory instance that answers 503 half the time from the start (scene 7). */
export const FLAKY_INVENTORY = 'inventory-3-east-1a';
/** The payments instance scene 8 turns bad and back. */
export const BAD_PAYMENTS = 'payments-2-east-1a';
/** The shipping instance in the client's own zone, which scene 9 turns bad and back. */
export const SHIPPING_IN_ZONE = 'shipping-1-east-1a';
/** The one pricing instance, slow from the start, behind scene 11's circuit breaker. */
export const SLOW_PRICING = 'pricing-1-east-1a';

/**
 * Twelve instances for the routing scenes: reviews in all three localities (so locality
 * preference has something to prefer), two ratings versions for the canary, three cart
 * instances for sticky sessions. Then eleven for the resilience scenes: inventory (one of three
 * flaky), payments (three, one of which goes bad), shipping in three localities (failover),
 * one catalog instance behind injected faults and one slow pricing instance behind a circuit
 * breaker.
 */
export const INSTANCES: readonly InstanceSpec[] = Object.freeze([
  instance('reviews', 'v1', EAST_A, 'v1'),
  instance('reviews', 'v1', EAST_B, 'v1'),
  instance('reviews', 'v1', WEST_A, 'v1'),
  instance('reviews', 'v2', EAST_A, 'v2'),
  instance('reviews', 'v2', WEST_A, 'v2'),
  instance('reviews', 'v3', EAST_A, 'v3'),
  instance('reviews', 'v3', WEST_A, 'v3'),
  instance('ratings', 'v1', EAST_A, 'v1'),
  instance('ratings', 'v2', EAST_B, 'v2'),
  instance('cart', 'v1', EAST_A, '1'),
  instance('cart', 'v1', EAST_A, '2'),
  instance('cart', 'v1', EAST_B, '3'),
  instance('inventory', 'v1', EAST_A, '1'),
  instance('inventory', 'v1', EAST_A, '2'),
  instance('inventory', 'v1', EAST_A, '3', 'flaky'),
  instance('payments', 'v1', EAST_A, '1'),
  instance('payments', 'v1', EAST_A, '2'),
  instance('payments', 'v1', EAST_A, '3'),
  instance('shipping', 'v1', EAST_A, '1'),
  instance('shipping', 'v1', EAST_B, '2'),
  instance('shipping', 'v1', WEST_A, '3'),
  instance('catalog', 'v1', EAST_A, '1'),
  instance('pricing', 'v1', EAST_A, '1', 'slow'),
]);
