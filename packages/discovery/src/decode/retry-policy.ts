import type { RetryPolicy } from '#xds/envoy/config/route/v3/route_components_pb.js';
import { PreviousPrioritiesConfigSchema } from '#xds/envoy/extensions/retry/priority/previous_priorities/v3/previous_priorities_config_pb.js';
import type {
  RateLimitedRetryBackOffModel,
  RetryBackOffModel,
  RetryHostPredicateModel,
  RetryPolicyModel,
  RetryPriorityModel,
} from '../model/retry-policy.ts';
import { decodeAny } from '../xds/codec.ts';
import type { IssueSink } from './decoded.ts';
import { durationMs, optionalDurationMs } from './duration.ts';
import { decodeHeaderMatcher } from './header-matcher.ts';

const PREVIOUS_HOSTS_NAME = 'envoy.retry_host_predicates.previous_hosts';
const PREVIOUS_HOSTS_TYPE =
  'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate';
const PREVIOUS_PRIORITIES_NAME = 'envoy.retry_priorities.previous_priorities';
const PREVIOUS_PRIORITIES_TYPE = `type.googleapis.com/${PreviousPrioritiesConfigSchema.typeName}`;
// RetryPolicy.ResetHeaderFormat: SECONDS = 0, UNIX_TIMESTAMP = 1.
const UNIX_TIMESTAMP = 1;

/**
 * A RetryPolicy, refusing what Envoy refuses (source/common/router/retry_policy_impl.cc and the
 * proto's validation rules): a retry_back_off without base_interval or with max_interval below
 * it, a retry host predicate or retry priority Dabba does not implement (Envoy fails the config
 * on an unknown extension), retry_options_predicates, an empty reset_headers list, a bad header
 * matcher, and a PreviousPrioritiesConfig without a positive update_frequency.
 *
 * @param path field path of the RetryPolicy.
 */
export function decodeRetryPolicy(p: RetryPolicy, path: string, sink: IssueSink): RetryPolicyModel {
  const retryBackOff = backOff(p, path, sink);
  // Envoy has no built-in options predicate; an unknown extension makes it refuse the route.
  if (p.retryOptionsPredicates.length > 0)
    sink.add(`${path}.retryOptionsPredicates`, 'not supported by Dabba');
  const retryHostPredicates: RetryHostPredicateModel[] = [];
  p.retryHostPredicate.forEach((predicate, i) => {
    const typeUrl = predicate.configType.case === 'typedConfig' ? predicate.configType.value.typeUrl : '';
    // Envoy resolves an extension by typed_config type URL, else by name.
    if (typeUrl === PREVIOUS_HOSTS_TYPE || (typeUrl === '' && predicate.name === PREVIOUS_HOSTS_NAME))
      retryHostPredicates.push({ kind: 'previousHosts', name: predicate.name });
    else
      sink.add(
        `${path}.retryHostPredicate[${i}]`,
        `retry host predicate ${typeUrl || predicate.name} is not supported by Dabba`,
      );
  });
  const retriableHeaders = p.retriableHeaders.map((h, i) =>
    decodeHeaderMatcher(h, `${path}.retriableHeaders[${i}]`, sink),
  );
  const retriableRequestHeaders = p.retriableRequestHeaders.map((h, i) =>
    decodeHeaderMatcher(h, `${path}.retriableRequestHeaders[${i}]`, sink),
  );
  return {
    retryOn: p.retryOn,
    numRetries: p.numRetries,
    perTryTimeoutMs: optionalDurationMs(p.perTryTimeout),
    perTryIdleTimeoutMs: optionalDurationMs(p.perTryIdleTimeout),
    retryPriority: retryPriority(p, path, sink),
    retryHostPredicates,
    hostSelectionRetryMaxAttempts: Number(p.hostSelectionRetryMaxAttempts),
    retriableStatusCodes: [...p.retriableStatusCodes],
    retryBackOff,
    rateLimitedRetryBackOff: rateLimited(p, path, sink),
    retriableHeaders,
    retriableRequestHeaders,
  };
}

function backOff(p: RetryPolicy, path: string, sink: IssueSink): RetryBackOffModel | undefined {
  const b = p.retryBackOff;
  if (b === undefined) return undefined;
  if (b.baseInterval === undefined) {
    sink.add(`${path}.retryBackOff.baseInterval`, 'is required');
    return undefined;
  }
  const baseIntervalMs = durationMs(b.baseInterval);
  const maxIntervalMs = optionalDurationMs(b.maxInterval);
  // Compared as Envoy compares them: sub-millisecond values count as 1 ms (RetryPolicyImpl).
  if (maxIntervalMs !== undefined && Math.max(1, maxIntervalMs) < Math.max(1, baseIntervalMs))
    sink.add(`${path}.retryBackOff.maxInterval`, 'must be greater than or equal to the base_interval');
  return { baseIntervalMs, maxIntervalMs };
}

function rateLimited(
  p: RetryPolicy,
  path: string,
  sink: IssueSink,
): RateLimitedRetryBackOffModel | undefined {
  const r = p.rateLimitedRetryBackOff;
  if (r === undefined) return undefined;
  // PGV: reset_headers min_items 1.
  if (r.resetHeaders.length === 0)
    sink.add(`${path}.rateLimitedRetryBackOff.resetHeaders`, 'at least one is required');
  return {
    resetHeaders: r.resetHeaders.map((h) => ({
      name: h.name,
      format: h.format === UNIX_TIMESTAMP ? 'UNIX_TIMESTAMP' : 'SECONDS',
    })),
    maxIntervalMs: optionalDurationMs(r.maxInterval),
  };
}

function retryPriority(p: RetryPolicy, path: string, sink: IssueSink): RetryPriorityModel | undefined {
  const priority = p.retryPriority;
  if (priority === undefined || priority.name === '') return undefined;
  const typed = priority.configType.case === 'typedConfig' ? priority.configType.value : undefined;
  const typeUrl = typed?.typeUrl ?? '';
  if (
    typeUrl !== PREVIOUS_PRIORITIES_TYPE &&
    !(typeUrl === '' && priority.name === PREVIOUS_PRIORITIES_NAME)
  ) {
    sink.add(`${path}.retryPriority`, `retry priority ${typeUrl || priority.name} is not supported by Dabba`);
    return undefined;
  }
  let updateFrequency = 0;
  if (typed !== undefined) {
    try {
      updateFrequency = decodeAny(typed, PreviousPrioritiesConfigSchema).updateFrequency;
    } catch (err) {
      sink.add(`${path}.retryPriority.typedConfig`, (err as Error).message);
      return undefined;
    }
  }
  // PGV `update_frequency` gt 0: a config without it (or given by name only) is refused by Envoy.
  if (updateFrequency <= 0) {
    sink.add(
      `${path}.retryPriority.typedConfig`,
      'PreviousPrioritiesConfig.update_frequency must be greater than 0',
    );
    return undefined;
  }
  return { kind: 'previousPriorities', name: priority.name, updateFrequency };
}
