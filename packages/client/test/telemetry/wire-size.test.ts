/**
 * HTTP/1.1 head sizes for istio_request_bytes / istio_response_bytes (istio_stats.cc records the
 * downstream connection's wire bytes): each case is checked against the head written out in full.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestHeadBytes, responseHeadBytes } from '../../src/telemetry/wire-size.ts';

const len = (s: string) => Buffer.byteLength(s, 'latin1');

test('requestHeadBytes counts the request line, every header form, and host when absent', () => {
  const written = 'GET /a?b=1 HTTP/1.1\r\nx-one: 1\r\naccept: a\r\naccept: b\r\nhost: reviews:9080\r\n\r\n';
  const expected = len(written);
  assert.equal(
    requestHeadBytes('GET', '/a?b=1', { 'x-one': '1', accept: ['a', 'b'] }, 'reviews:9080'),
    expected,
  );
  assert.equal(
    requestHeadBytes('GET', '/a?b=1', ['x-one', '1', 'accept', 'a', 'accept', 'b'], 'reviews:9080'),
    expected,
  );
  assert.equal(
    requestHeadBytes(
      'GET',
      '/a?b=1',
      [
        ['x-one', '1'],
        ['accept', 'a'],
        ['accept', 'b'],
      ],
      'reviews:9080',
    ),
    expected,
  );
  // A host header given by the caller is counted as given, not twice.
  assert.equal(
    requestHeadBytes('POST', '/', { Host: 'x:1' }, 'reviews:9080'),
    len('POST / HTTP/1.1\r\nHost: x:1\r\n\r\n'),
  );
  assert.equal(requestHeadBytes('GET', '/', undefined, 'r:1'), len('GET / HTTP/1.1\r\nhost: r:1\r\n\r\n'));
});

test('responseHeadBytes counts the status line with its reason phrase and the raw headers', () => {
  const raw = [Buffer.from('Content-Length'), Buffer.from('2'), Buffer.from('X-A'), Buffer.from('b')];
  assert.equal(responseHeadBytes(200, raw), len('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\n'));
  assert.equal(responseHeadBytes(503, []), len('HTTP/1.1 503 Service Unavailable\r\n\r\n'));
  // HTTP/2 headers arrive as an object; the :status pseudo-header is the status line.
  assert.equal(
    responseHeadBytes(200, { ':status': '200', 'content-type': 'text/plain' }),
    len('HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\n'),
  );
});
