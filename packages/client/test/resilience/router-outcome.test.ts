/**
 * The router's mapping from undici/Node failures to Envoy's attempt outcomes and response flags,
 * its response pre-check, and the body replay rule.
 *
 * Envoy: Http::StreamResetReason (LocalConnectionFailure, RemoteConnectionFailure,
 * ConnectionTimeout -> connect-failure and `UF`; ConnectionTermination -> `UC`; RemoteReset /
 * RemoteRefusedStreamReset -> `UR`), access-log RESPONSE_FLAGS; retry_state_impl.cc
 * wouldRetryFromHeaders for the pre-check.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import {
  classifyAttemptError,
  isDrainableResponse,
  isReplayableBody,
  mayRetryResponse,
  responseFlagOf,
} from '../../src/dispatch/attempt-outcome.ts';
import { decideRetry } from '../../src/resilience/decide-retry.ts';
import { compiledRetryPolicy as policy } from './retry-policy-fixture.ts';

function err(code: string | undefined, message = 'x'): Error {
  return Object.assign(new Error(message), code === undefined ? {} : { code });
}

test('undici and Node errors map to Envoy outcomes', () => {
  const table: [string | undefined, boolean, string][] = [
    ['ECONNREFUSED', false, 'connect-failure'],
    ['UND_ERR_CONNECT_TIMEOUT', false, 'connect-failure'],
    ['ENOTFOUND', false, 'connect-failure'],
    ['EHOSTUNREACH', false, 'connect-failure'],
    ['ENETUNREACH', false, 'connect-failure'],
    ['ETIMEDOUT', false, 'connect-failure'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', false, 'connect-failure'],
    ['ETIMEDOUT', true, 'reset-before-response'],
    ['ECONNRESET', true, 'reset-before-response'],
    ['ECONNRESET', false, 'reset-before-response'],
    ['EPIPE', true, 'reset-before-response'],
    ['UND_ERR_SOCKET', true, 'reset-before-response'],
    ['UND_ERR_HEADERS_TIMEOUT', true, 'reset-before-response'],
    ['ERR_HTTP2_STREAM_ERROR', true, 'reset-before-response'],
    // Not upstream failures: the caller's own mistakes and aborts are passed through as they are.
    ['UND_ERR_INVALID_ARG', false, 'local'],
    ['UND_ERR_ABORTED', true, 'local'],
    ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', true, 'local'],
    [undefined, true, 'local'],
  ];
  for (const [code, started, want] of table) {
    assert.equal(classifyAttemptError(err(code), started), want, `${code} started=${started}`);
  }
  assert.equal(
    classifyAttemptError(
      err('ERR_HTTP2_STREAM_ERROR', 'Stream closed with error code NGHTTP2_REFUSED_STREAM'),
      true,
    ),
    'refused-stream',
  );
});

test('final failures carry Envoy’s response flag: UF for connect failures, UC for a closed connection, UR for a stream reset', () => {
  assert.equal(responseFlagOf('connect-failure', err('ECONNREFUSED')), 'UF');
  assert.equal(responseFlagOf('reset-before-response', err('ECONNRESET')), 'UC');
  assert.equal(responseFlagOf('reset-before-response', err('UND_ERR_SOCKET')), 'UC');
  assert.equal(responseFlagOf('reset-before-response', err('ERR_HTTP2_STREAM_ERROR')), 'UR');
  assert.equal(responseFlagOf('refused-stream', undefined), 'UR');
});

test('the response pre-check never hides a retry decideRetry would make (agrees on every case below)', () => {
  const policies = [
    policy({
      retryOn: 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes',
      numRetries: 2,
    }),
    policy({ retryOn: '5xx', numRetries: 2 }),
    policy({ retryOn: 'gateway-error', numRetries: 2 }),
    policy({ retryOn: 'retriable-4xx', numRetries: 2 }),
    policy({ retryOn: 'retriable-status-codes', retriableStatusCodes: [418, 425], numRetries: 2 }),
    policy({ retryOn: 'envoy-ratelimited', numRetries: 2 }),
    policy({
      retryOn: 'retriable-headers',
      retriableHeaders: [{ name: 'x-retry', presentMatch: true }],
      numRetries: 2,
    }),
    policy({ retryOn: 'internal,resource-exhausted,deadline-exceeded', numRetries: 2 }),
  ];
  const responses: [number, Record<string, string>][] = [
    [200, {}],
    [200, { 'grpc-status': '14' }],
    [200, { 'grpc-status': '1' }],
    [200, { 'grpc-status': '13' }],
    [200, { 'grpc-status': '0' }],
    [200, { 'x-retry': '1' }],
    [404, {}],
    [409, {}],
    [418, {}],
    [425, {}],
    [429, { 'x-envoy-ratelimited': 'true' }],
    [500, {}],
    [502, {}],
    [503, {}],
    [504, {}],
  ];
  const ctx = { random: () => 0.5, bodyReplayable: true, retryAdmitted: true, requestStarted: true };
  for (const p of policies) {
    for (const [status, headers] of responses) {
      const decision = decideRetry(p, { kind: 'response', status, headers: (n) => headers[n] }, 1, ctx);
      if (decision.retry) {
        assert.ok(mayRetryResponse(p, status, headers), `retryOn ${p.retryOn} status ${status}`);
      }
    }
  }
  // And the common case is cheap: Istio's default policy does not look further at a 200.
  assert.equal(mayRetryResponse(policies[0]!, 200, {}), false);
  assert.equal(mayRetryResponse(policies[0]!, 503, {}), false);
  assert.equal(mayRetryResponse(policies[1]!, 503, {}), true);
});

test('request bodies: none, a string or bytes are replayed on a retry; a stream or an iterable is not', () => {
  assert.equal(isReplayableBody(undefined), true);
  assert.equal(isReplayableBody(null), true);
  assert.equal(isReplayableBody('text'), true);
  assert.equal(isReplayableBody(Buffer.from('bytes')), true);
  assert.equal(isReplayableBody(new Uint8Array(3)), true);
  assert.equal(isReplayableBody(Readable.from(['a'])), false);
  assert.equal(
    isReplayableBody(
      (async function* () {
        yield 'a';
      })(),
    ),
    false,
  );
});

test('a retried response is drained only with a known body of at most 64 KiB, or none', () => {
  const table: [string, number, Record<string, string>, boolean][] = [
    ['GET', 503, { 'content-length': '11' }, true],
    ['GET', 503, { 'content-length': '0' }, true],
    ['GET', 503, { 'content-length': '65536' }, true],
    ['GET', 503, { 'content-length': '65537' }, false],
    ['GET', 503, { 'content-length': '1e3' }, false],
    ['GET', 503, { 'content-length': '' }, false],
    ['GET', 503, { 'transfer-encoding': 'chunked' }, false],
    ['GET', 503, {}, false],
    ['HEAD', 503, {}, true],
    ['GET', 204, {}, true],
    ['GET', 304, {}, true],
  ];
  for (const [method, status, headers, want] of table) {
    assert.equal(
      isDrainableResponse(method, status, headers),
      want,
      `${method} ${status} ${JSON.stringify(headers)}`,
    );
  }
});
