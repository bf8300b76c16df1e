/**
 * The x-envoy-* request headers Envoy's router consumes (router filter docs, "HTTP headers
 * (consumed from downstreams)"; router.cc FilterUtility::finalTimeout / setTimeoutHeaders;
 * retry_state_impl.cc RetryStateImpl), as pure parsing and policy merging.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  expectedTimeoutMs,
  mayHaveEnvoyHeaders,
  parseUint,
  readEnvoyOverrides,
} from '../../src/dispatch/envoy-request-headers.ts';
import { IncomingRequest } from '../../src/dispatch/incoming-request.ts';
import { RetryOn, withRetryHeaders } from '../../src/resilience/retry-policy.ts';
import { MatchContext } from '../../src/route/match/index.ts';
import { compiledRetryPolicy } from './retry-policy-fixture.ts';

const req = (headers: Record<string, string> | string[]) =>
  new IncomingRequest('GET', 'http', 'a', '/', headers);

describe('mayHaveEnvoyHeaders: the cheap pre-check', () => {
  test('finds x-envoy- names in objects and flat arrays, any case; not other names', () => {
    assert.equal(mayHaveEnvoyHeaders({ 'x-envoy-retry-on': '5xx' }), true);
    assert.equal(mayHaveEnvoyHeaders({ 'X-Envoy-Max-Retries': '1' }), true);
    assert.equal(mayHaveEnvoyHeaders(['accept', '*/*', 'X-ENVOY-RETRY-ON', '5xx']), true);
    assert.equal(mayHaveEnvoyHeaders({ accept: '*/*', 'x-envoyish': '1', 'x-request-id': 'r' }), false);
    assert.equal(mayHaveEnvoyHeaders(['accept', '*/*']), false);
    assert.equal(mayHaveEnvoyHeaders(undefined), false);
    assert.equal(mayHaveEnvoyHeaders(null), false);
  });
});

describe('parseUint: absl::SimpleAtoi into an unsigned integer', () => {
  const table: [string, number | undefined][] = [
    ['0', 0],
    ['250', 250],
    [' 250 ', 250],
    ['+7', 7],
    ['-1', undefined],
    ['1.5', undefined],
    ['1e3', undefined],
    ['', undefined],
    ['abc', undefined],
    ['12abc', undefined],
  ];
  for (const [text, want] of table) test(JSON.stringify(text), () => assert.equal(parseUint(text), want));
});

describe('readEnvoyOverrides', () => {
  test('none of the consumed headers: undefined', () => {
    assert.equal(readEnvoyOverrides(req({ 'x-envoy-custom': '1' })), undefined);
  });

  test('every header parsed; invalid numbers ignored but the header still counts as present', () => {
    assert.deepEqual(
      readEnvoyOverrides(
        req({
          'x-envoy-upstream-rq-timeout-ms': '1500',
          'x-envoy-upstream-rq-per-try-timeout-ms': 'soon',
          'x-envoy-retry-on': '5xx,reset',
          'x-envoy-retry-grpc-on': 'cancelled',
          'x-envoy-max-retries': '4',
          'x-envoy-retriable-status-codes': '418,,x, 500',
          'x-envoy-retriable-header-names': ' X-A ,,x-b',
        }),
      ),
      {
        timeoutMs: 1500,
        retryOn: '5xx,reset',
        retryGrpcOn: 'cancelled',
        maxRetries: 4,
        retriableStatusCodes: [418, 500],
        retriableHeaderNames: ['x-a', 'x-b'],
      },
    );
    assert.deepEqual(readEnvoyOverrides(req({ 'x-envoy-max-retries': 'many' })), {});
  });
});

describe('withRetryHeaders: the route policy merged with the headers', () => {
  test('no route policy: Envoy’s default one (1 retry, 25 ms base, 250 ms max) with the header’s conditions', () => {
    const p = withRetryHeaders(undefined, { retryOn: '5xx' });
    assert.equal(p.retryOn, RetryOn.FIVE_XX);
    assert.deepEqual([p.numRetries, p.baseIntervalMs, p.maxIntervalMs], [1, 25, 250]);
    assert.equal(p.previousHosts, false);
  });

  test('conditions are OR-ed into the route’s; gRPC names count only from x-envoy-retry-grpc-on', () => {
    const route = compiledRetryPolicy({ retryOn: 'connect-failure', numRetries: 2 });
    const p = withRetryHeaders(route, { retryOn: 'reset,unavailable', retryGrpcOn: 'cancelled,5xx' });
    assert.equal(p.retryOn, RetryOn.CONNECT_FAILURE | RetryOn.RESET | RetryOn.GRPC_CANCELLED);
    assert.equal(p.numRetries, 2);
  });

  test('x-envoy-max-retries replaces num_retries; codes and header names are appended', () => {
    const route = compiledRetryPolicy({ retryOn: 'retriable-status-codes', retriableStatusCodes: [409] });
    const p = withRetryHeaders(route, {
      maxRetries: 0,
      retriableStatusCodes: [418],
      retriableHeaderNames: ['x-again'],
    });
    assert.equal(p.numRetries, 0);
    assert.deepEqual([...p.retriableStatusCodes].sort(), [409, 418]);
    const present = new MatchContext({
      method: 'GET',
      scheme: 'http',
      authority: 'a',
      path: '/',
      query: '',
      headers: { 'x-again': '1' },
    });
    assert.equal(p.retriableHeaders.length, 1);
    assert.equal(p.retriableHeaders[0]!(present), true);
    assert.equal(route.retriableStatusCodes.has(418), false, 'the route’s compiled policy is untouched');
  });

  test('the per-try timeout header replaces the route’s', () => {
    const route = compiledRetryPolicy({ retryOn: '5xx', perTryTimeout: '2s' });
    assert.equal(withRetryHeaders(route, { perTryTimeoutMs: 300 }).perTryTimeoutMs, 300);
    assert.equal(withRetryHeaders(route, {}).perTryTimeoutMs, 2000);
  });
});

describe('expectedTimeoutMs: FilterUtility::setTimeoutHeaders', () => {
  test('the per-try timeout if any, else the route timeout, capped by the time left; 1 when none is left', () => {
    assert.equal(expectedTimeoutMs(0, 0, 0), undefined);
    assert.equal(expectedTimeoutMs(3000, 0, 0), 3000);
    assert.equal(expectedTimeoutMs(3000, 500, 0), 500);
    assert.equal(expectedTimeoutMs(0, 500, 900), 500);
    assert.equal(expectedTimeoutMs(3000, 500, 2800), 200);
    assert.equal(expectedTimeoutMs(3000, 0, 1000.4), 1999);
    assert.equal(expectedTimeoutMs(3000, 0, 3000), 1);
  });
});
