/**
 * Envoy's tracing reason from x-request-id (ConnectionManagerUtility::mutateTracingRequestHeader
 * with the UUID request-id extension: use_request_id_for_trace_sampling, pack_trace_reason).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { requestIdReason } from '../../src/telemetry/tracing/request-id-sampling.ts';

const never = () => {
  throw new Error('no random draw expected');
};

describe('requestIdReason', () => {
  it('draws from the first 8 hex digits mod 10000 and packs 9 at position 14 when sampled', () => {
    // 0x0000270f = 9999, 0x00002710 = 10000 -> 0.
    assert.deepEqual(requestIdReason('0000270f-aaaa-4bbb-8ccc-dddddddddddd', 9999, never), {
      traceable: false,
      requestId: '0000270f-aaaa-4bbb-8ccc-dddddddddddd',
    });
    assert.deepEqual(requestIdReason('00002710-aaaa-4bbb-8ccc-dddddddddddd', 1, never), {
      traceable: true,
      requestId: '00002710-aaaa-9bbb-8ccc-dddddddddddd',
    });
  });
  it('keeps an id already marked sampled (9), forced (a) or client (b): traceable at 0%', () => {
    for (const mark of ['9', 'a', 'b']) {
      const id = `ffffffff-0000-${mark}000-8000-000000000000`;
      assert.deepEqual(requestIdReason(id, 0, never), { traceable: true, requestId: id });
    }
  });
  it('an id without an 8-hex-digit prefix is not traceable by rate; a short hex id is, unmarked', () => {
    assert.deepEqual(requestIdReason('my-request', 10_000, never), {
      traceable: false,
      requestId: 'my-request',
    });
    assert.deepEqual(requestIdReason('00000001', 10_000, never), { traceable: true, requestId: '00000001' });
  });
  it('x-client-trace-id marks b, x-envoy-force-trace marks a, both at 0%; client first', () => {
    const id = 'ffffffff-0000-4000-8000-000000000000';
    assert.deepEqual(requestIdReason(id, 0, never, { clientTraceId: true, forceTrace: true }), {
      traceable: true,
      requestId: 'ffffffff-0000-b000-8000-000000000000',
    });
    assert.deepEqual(requestIdReason(id, 0, never, { clientTraceId: false, forceTrace: true }), {
      traceable: true,
      requestId: 'ffffffff-0000-a000-8000-000000000000',
    });
    // An id Envoy cannot read forces nothing either.
    assert.equal(
      requestIdReason('my-id', 0, never, { clientTraceId: true, forceTrace: true }).traceable,
      false,
    );
  });
  it('no id: a random draw', () => {
    assert.equal(requestIdReason(undefined, 5000, () => 0.4999).traceable, true);
    assert.equal(requestIdReason(undefined, 5000, () => 0.5).traceable, false);
  });
  it('fresh UUIDv4s at 1% (Istio default): n = 100000 within 5 standard deviations of 1000', () => {
    const n = 100_000;
    let sampled = 0;
    for (let i = 0; i < n; i++) if (requestIdReason(randomUUID(), 100, never).traceable) sampled++;
    const sd = Math.sqrt(n * 0.01 * 0.99);
    assert.ok(Math.abs(sampled - n * 0.01) < 5 * sd, `${sampled} sampled`);
  });
});
