/**
 * VirtualService `retries` -> Envoy RetryPolicy, and Istio's default policy for routes that set
 * none (pilot/pkg/networking/core/route/retry: DefaultPolicy, ConvertPolicy).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type { RetryPolicySchema } from '#xds/envoy/config/route/v3/route_components_pb.js';
import { durationFromMs } from './proto-values.ts';
import type { IstioHttpRoute } from './virtual-service-schema.ts';

/** Istio's retry policy for routes whose VirtualService sets none (pilot DefaultPolicy). */
export const ISTIO_DEFAULT_RETRY_ON =
  'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const ISTIO_DEFAULT_RETRY_ATTEMPTS = 2;
const PREVIOUS_PRIORITIES_TYPE =
  'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

export function retryPolicy(
  http: IstioHttpRoute,
  hashing: boolean,
): MessageInitShape<typeof RetryPolicySchema> | undefined {
  const r = http.retries;
  if (r && r.attempts === 0) return undefined; // attempts 0 disables retries (Istio)
  const previousHosts = r?.retryIgnorePreviousHosts ?? !hashing;
  const policy: MessageInitShape<typeof RetryPolicySchema> = {
    retryOn: ISTIO_DEFAULT_RETRY_ON,
    numRetries: r?.attempts ?? ISTIO_DEFAULT_RETRY_ATTEMPTS,
    hostSelectionRetryMaxAttempts: 5n,
    // Istio's default previous-hosts predicate; it would break stickiness with consistent hashing.
    retryHostPredicate: previousHosts ? [{ name: 'envoy.retry_host_predicates.previous_hosts' }] : [],
  };
  if (r?.retryOn) {
    // retry.go parseRetryOn: numbers that are HTTP status codes become retriable_status_codes.
    const { retryOn, codes } = parseRetryOn(r.retryOn);
    policy.retryOn = retryOn;
    if (codes.length > 0) {
      policy.retriableStatusCodes = codes;
      if (!retryOn.includes('retriable-status-codes'))
        policy.retryOn = retryOn ? `${retryOn},retriable-status-codes` : 'retriable-status-codes';
    }
  }
  if (r?.perTryTimeout !== undefined) policy.perTryTimeout = durationFromMs(r.perTryTimeout);
  if (r?.backoff !== undefined) policy.retryBackOff = { baseInterval: durationFromMs(r.backoff) };
  if (r?.retryRemoteLocalities) {
    // retry.go buildPreviousPrioritiesConfig: update_frequency 2. PreviousPrioritiesConfig has no
    // generated schema here; its one field is written directly (field 1, varint: 0x08 0x02).
    policy.retryPriority = {
      name: 'envoy.retry_priorities.previous_priorities',
      configType: {
        case: 'typedConfig',
        value: { typeUrl: PREVIOUS_PRIORITIES_TYPE, value: new Uint8Array([0x08, 0x02]) },
      },
    };
  }
  return policy;
}

export function parseRetryOn(text: string): { retryOn: string; codes: number[] } {
  const parts: string[] = [];
  const codes: number[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    // Go's http.StatusText knows codes 100-599 (a close enough test for "is a status code").
    if (/^\d+$/.test(part) && Number(part) >= 100 && Number(part) <= 599) codes.push(Number(part));
    else parts.push(part);
  }
  return { retryOn: parts.join(','), codes };
}
