/**
 * The endpoint pick of a retry: the route's hash, Envoy's retry host predicate
 * (`envoy.retry_host_predicates.previous_hosts`: re-pick a host already attempted, up to
 * host_selection_retry_max_attempts) and retry priority (`envoy.retry_priorities.previous_priorities`:
 * priority loads that shun the priorities already attempted). Only retries come here, so the
 * pick context is built per retry, never for a first attempt.
 */
import type { Host } from '../lb/host.ts';
import type { LoadBalancer } from '../lb/index.ts';
import type { PickContext } from '../lb/picker.ts';
import { PreviousPriorities } from '../lb/previous-priorities.ts';
import type { CompiledRetryPolicy } from '../resilience/retry-policy.ts';

/**
 * Picks the host of a retry from `balancer`. `firstHost` and `otherHosts` are the hosts attempted
 * so far; `priorities` the request's previous_priorities state when the policy has one.
 */
export function pickRetryHost(
  balancer: LoadBalancer,
  policy: CompiledRetryPolicy,
  hash: bigint | undefined,
  firstHost: Host | undefined,
  otherHosts: readonly Host[] | undefined,
  priorities: PreviousPriorities | undefined,
): Host | undefined {
  const priorityBuckets = priorities?.priorityBuckets(balancer.plan);
  const ctx: PickContext = {
    ...(hash === undefined ? {} : { hash }),
    ...(policy.previousHosts
      ? {
          exclude: (h: Host) => h === firstHost || otherHosts?.includes(h) === true,
          hostSelectionRetryCount: policy.hostSelectionRetryMaxAttempts,
        }
      : {}),
    ...(priorityBuckets === undefined ? {} : { priorityBuckets }),
  };
  return balancer.pick(ctx);
}

/**
 * The request's retry priority state, created on its first retry and told every host attempted
 * so far (Envoy calls onHostAttempted for each attempt, the first included).
 */
export function previousPrioritiesOf(
  updateFrequency: number,
  firstHost: Host | undefined,
  otherHosts: readonly Host[] | undefined,
): PreviousPriorities {
  const state = new PreviousPriorities(updateFrequency);
  if (firstHost !== undefined) state.onHostAttempted(firstHost);
  for (const h of otherHosts ?? []) state.onHostAttempted(h);
  return state;
}
