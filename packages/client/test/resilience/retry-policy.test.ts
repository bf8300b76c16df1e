import assert from 'node:assert/strict';
import { test } from 'node:test';
import { create } from '@bufbuild/protobuf';
import { AnySchema } from '@bufbuild/protobuf/wkt';
import { parseRetryOn, RetryOn, retriesEnabledFor } from '../../src/resilience/retry-policy.ts';
import { MatchContext } from '../../src/route/match/index.ts';
import { MatcherCompileError } from '../route/matcher-compile-error.ts';
import {
  compiledRetryPolicy as compile,
  compileRetryPolicy,
  retryPolicyFromJson as xds,
} from './retry-policy-fixture.ts';

function request(headers: Record<string, string>): MatchContext {
  return new MatchContext({ method: 'GET', scheme: 'http', authority: 'a', path: '/', query: '', headers });
}

test('no RetryPolicy compiles to undefined: Envoy neither retries nor sets a per-try timeout', () => {
  assert.equal(compileRetryPolicy(undefined), undefined);
});

// route_components.proto RetryPolicy.num_retries: "This parameter is optional and defaults to 1."
test('num_retries defaults to 1 when the policy leaves it unset', () => {
  assert.equal(compile({ retryOn: '5xx' }).numRetries, 1);
  assert.equal(compile({ retryOn: '5xx', numRetries: 0 }).numRetries, 0);
  assert.equal(compile({ retryOn: '5xx', numRetries: 4 }).numRetries, 4);
});

// route_components.proto RetryPolicy.retry_back_off: "default base interval is 25 milliseconds
// ... The default maximum interval is 10 times the base interval."
test('retry_back_off defaults: base 25 ms, max 10 x base', () => {
  const d = compile({ retryOn: '5xx' });
  assert.deepEqual([d.baseIntervalMs, d.maxIntervalMs], [25, 250]);
  const b = compile({ retryOn: '5xx', retryBackOff: { baseInterval: '0.1s' } });
  assert.deepEqual([b.baseIntervalMs, b.maxIntervalMs], [100, 1000]);
  const m = compile({ retryOn: '5xx', retryBackOff: { baseInterval: '0.1s', maxInterval: '0.3s' } });
  assert.deepEqual([m.baseIntervalMs, m.maxIntervalMs], [100, 300]);
});

// RetryBackOff.base_interval: "Values less than 1 ms are rounded up to 1 ms." (retry_policy_impl.cc
// applies the same to max_interval.)
test('sub-millisecond back-off intervals round up to 1 ms', () => {
  const p = compile({ retryOn: '5xx', retryBackOff: { baseInterval: '0.0005s', maxInterval: '0.0001s' } });
  assert.deepEqual([p.baseIntervalMs, p.maxIntervalMs], [1, 1]);
});

// retry_policy_impl.cc: "retry_policy.max_interval must greater than or equal to the base_interval";
// RetryBackOff.base_interval is required (PGV).
test('retry_back_off: max below base, or no base, is rejected as Envoy rejects it', () => {
  assert.throws(
    () => compileRetryPolicy(xds({ retryBackOff: { baseInterval: '1s', maxInterval: '0.5s' } })),
    (e: unknown) => e instanceof MatcherCompileError && e.path === 'retryPolicy.retryBackOff.maxInterval',
  );
  assert.throws(
    () => compileRetryPolicy(xds({ retryBackOff: { maxInterval: '0.5s' } })),
    (e: unknown) => e instanceof MatcherCompileError && e.path === 'retryPolicy.retryBackOff.baseInterval',
  );
});

// Router docs x-envoy-retry-on / x-envoy-retry-grpc-on; RetryPolicyImpl ORs parseRetryOn and
// parseRetryGrpcOn over the same retry_on string.
test('every HTTP and gRPC retry_on condition Envoy knows is parsed to its flag', () => {
  const names: [string, number][] = [
    ['5xx', RetryOn.FIVE_XX],
    ['gateway-error', RetryOn.GATEWAY_ERROR],
    ['reset', RetryOn.RESET],
    ['reset-before-request', RetryOn.RESET_BEFORE_REQUEST],
    ['connect-failure', RetryOn.CONNECT_FAILURE],
    ['envoy-ratelimited', RetryOn.ENVOY_RATE_LIMITED],
    ['retriable-4xx', RetryOn.RETRIABLE_4XX],
    ['refused-stream', RetryOn.REFUSED_STREAM],
    ['retriable-status-codes', RetryOn.RETRIABLE_STATUS_CODES],
    ['retriable-headers', RetryOn.RETRIABLE_HEADERS],
    ['http3-post-connect-failure', RetryOn.HTTP3_POST_CONNECT_FAILURE],
    ['cancelled', RetryOn.GRPC_CANCELLED],
    ['deadline-exceeded', RetryOn.GRPC_DEADLINE_EXCEEDED],
    ['internal', RetryOn.GRPC_INTERNAL],
    ['resource-exhausted', RetryOn.GRPC_RESOURCE_EXHAUSTED],
    ['unavailable', RetryOn.GRPC_UNAVAILABLE],
  ];
  for (const [name, bit] of names) assert.equal(parseRetryOn(name), bit, name);
  assert.equal(new Set(names.map(([, b]) => b)).size, names.length, 'flags are distinct');
});

// RetryStateImpl::parseRetryOn returns {flags, all_fields_valid}; RetryPolicyImpl keeps only
// `.first`, so unknown tokens are ignored, not rejected. splitToken(..., trim_whitespace=true).
test('unknown retry_on tokens are ignored and tokens are trimmed, as Envoy does', () => {
  assert.equal(parseRetryOn(' 5xx , bogus,,Connect-Failure'), RetryOn.FIVE_XX);
  assert.equal(compile({ retryOn: 'nonsense' }).retryOn, 0);
});

// Istio's default (pilot retry.go DefaultPolicy), as packages/discovery translates it.
test("Istio's default policy: 2 retries, its five conditions, previous_hosts, 5 host selections", () => {
  const p = compile({
    retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
    numRetries: 2,
    hostSelectionRetryMaxAttempts: '5',
    retryHostPredicate: [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
  });
  assert.equal(p.numRetries, 2);
  assert.equal(
    p.retryOn,
    RetryOn.CONNECT_FAILURE |
      RetryOn.REFUSED_STREAM |
      RetryOn.GRPC_UNAVAILABLE |
      RetryOn.GRPC_CANCELLED |
      RetryOn.RETRIABLE_STATUS_CODES,
  );
  assert.equal(p.retriableStatusCodes.size, 0);
  assert.equal(p.previousHosts, true);
  assert.equal(p.hostSelectionRetryMaxAttempts, 5);
});

// RetryPolicy.host_selection_retry_max_attempts: "If unspecified, this will default to retrying once."
test('host_selection_retry_max_attempts defaults to 1; no predicate means no previous_hosts', () => {
  const p = compile({ retryOn: '5xx' });
  assert.equal(p.hostSelectionRetryMaxAttempts, 1);
  assert.equal(p.previousHosts, false);
});

test('previous_hosts is recognised by typed_config type URL too', () => {
  const x = xds({ retryOn: '5xx', retryHostPredicate: [{ name: 'any-name' }] });
  const pred = x.retryHostPredicate[0];
  assert.ok(pred !== undefined);
  pred.configType = {
    case: 'typedConfig',
    value: create(AnySchema, {
      typeUrl: 'type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate',
    }),
  };
  assert.equal(compileRetryPolicy(x)?.previousHosts, true);
});

// Envoy::Config::Utility::getAndCheckFactory: an unknown extension fails the whole config.
test('a retry host predicate Dabba does not implement is rejected with its field path', () => {
  assert.throws(
    () =>
      compileRetryPolicy(
        xds({ retryHostPredicate: [{ name: 'envoy.retry_host_predicates.omit_canary_hosts' }] }),
      ),
    (e: unknown) => e instanceof MatcherCompileError && e.path === 'retryPolicy.retryHostPredicate[0]',
  );
});

const PREVIOUS_PRIORITIES_TYPE =
  'type.googleapis.com/envoy.extensions.retry.priority.previous_priorities.v3.PreviousPrioritiesConfig';

function withPriorityConfig(bytes: Uint8Array | undefined) {
  const x = xds({ retryOn: '5xx', retryPriority: { name: 'envoy.retry_priorities.previous_priorities' } });
  if (bytes !== undefined) {
    x.retryPriority!.configType = {
      case: 'typedConfig',
      value: create(AnySchema, { typeUrl: PREVIOUS_PRIORITIES_TYPE, value: bytes }),
    };
  }
  return x;
}

// previous_priorities_config.proto: `int32 update_frequency = 1 [(validate.rules).int32 = {gt: 0}]`;
// Istio writes 2 for retryRemoteLocalities (pilot/pkg/networking/core/route/retry).
test('retry_priority previous_priorities keeps its update_frequency; missing or 0 is rejected', () => {
  const p = compileRetryPolicy(withPriorityConfig(new Uint8Array([0x08, 0x02])));
  assert.equal(p?.retryPriority?.name, 'envoy.retry_priorities.previous_priorities');
  assert.equal(p?.retryPriority?.updateFrequency, 2);
  // A multi-byte varint, and an unknown field before it, which protobuf skips.
  assert.equal(
    compileRetryPolicy(withPriorityConfig(new Uint8Array([0x12, 0x01, 0x41, 0x08, 0xac, 0x02])))
      ?.retryPriority?.updateFrequency,
    300,
  );
  for (const bytes of [undefined, new Uint8Array([]), new Uint8Array([0x08, 0x00])]) {
    assert.throws(
      () => compileRetryPolicy(withPriorityConfig(bytes)),
      (e: unknown) => e instanceof MatcherCompileError && e.path === 'retryPolicy.retryPriority.typedConfig',
    );
  }
  assert.throws(() => compileRetryPolicy(xds({ retryPriority: { name: 'other' } })), MatcherCompileError);
});

test('per_try_timeout and per_try_idle_timeout are kept in ms; absent is 0', () => {
  const p = compile({ retryOn: '5xx', perTryTimeout: '0.25s', perTryIdleTimeout: '2s' });
  assert.deepEqual([p.perTryTimeoutMs, p.perTryIdleTimeoutMs], [250, 2000]);
  const q = compile({ retryOn: '5xx' });
  assert.deepEqual([q.perTryTimeoutMs, q.perTryIdleTimeoutMs], [0, 0]);
});

// RetryPolicy.rate_limited_retry_back_off: max_interval "Defaults to 300 seconds".
test('rate_limited_retry_back_off keeps reset headers (lowercased) and max interval', () => {
  const p = compile({
    retryOn: 'envoy-ratelimited',
    rateLimitedRetryBackOff: {
      resetHeaders: [{ name: 'Retry-After' }, { name: 'X-RateLimit-Reset', format: 'UNIX_TIMESTAMP' }],
    },
  });
  assert.deepEqual(p.rateLimitedBackOff, {
    resetHeaders: [
      { name: 'retry-after', format: 'seconds' },
      { name: 'x-ratelimit-reset', format: 'unixTimestamp' },
    ],
    maxIntervalMs: 300_000,
  });
});

// RetryStateImpl constructor: with retriable_request_headers set and none matching, retry_on = 0.
test('retriable_request_headers: no match disables retries for that request', () => {
  const p = compile({
    retryOn: '5xx',
    retriableRequestHeaders: [{ name: ':method', stringMatch: { exact: 'GET' } }],
  });
  assert.equal(retriesEnabledFor(p, request({})), true);
  const post = new MatchContext({
    method: 'POST',
    scheme: 'http',
    authority: 'a',
    path: '/',
    query: '',
    headers: {},
  });
  assert.equal(retriesEnabledFor(p, post), false);
  assert.equal(retriesEnabledFor(compile({ retryOn: '5xx' }), post), true);
  // RetryStateImpl::create allocates no retry state when retry_on is empty.
  assert.equal(retriesEnabledFor(compile({ retryOn: '' }), request({})), false);
});
