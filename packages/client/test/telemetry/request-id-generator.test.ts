/**
 * The x-request-id Dabba generates: an RFC 9562 UUIDv4 carrying Envoy's tracing mark, decided
 * as Envoy's connection manager decides it for a fresh id (ConnectionManagerUtility::
 * mutateTracingRequestHeader with the UUID request-id extension: the first 8 hex digits modulo
 * 10000 against random_sampling; a sampled id gets `9` at character 14).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isSampledMark, RequestIdGenerator } from '../../src/telemetry/propagation/request-id.ts';
import { requestIdReason } from '../../src/telemetry/tracing/request-id-sampling.ts';

const V4_OR_MARKED = /^[0-9a-f]{8}-[0-9a-f]{4}-[49][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const never = () => {
  throw new Error('no random draw expected');
};

/** The id as Envoy generated it, before the mark: version digit 4. */
const unmarked = (id: string) => `${id.slice(0, 14)}4${id.slice(15)}`;

describe('RequestIdGenerator', () => {
  it('n = 20000 ids (39 batches): UUIDv4 layout, all distinct, the mark exactly where Envoy would put it', () => {
    const rate = 2500;
    const ids = new RequestIdGenerator(rate);
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = ids.next();
      assert.match(id, V4_OR_MARKED);
      seen.add(id);
      // The reference: Envoy's reason for the fresh (unmarked) id, at the same rate.
      const envoy = requestIdReason(unmarked(id), rate, never);
      assert.equal(envoy.requestId, id, id);
      assert.equal(isSampledMark(id), envoy.traceable, id);
    }
    assert.equal(seen.size, 20_000);
  });

  it('0% never marks, 100% always marks (n = 2000 each)', () => {
    const none = new RequestIdGenerator(0);
    const all = new RequestIdGenerator(10_000);
    for (let i = 0; i < 2000; i++) {
      assert.equal(none.next()[14], '4');
      assert.equal(all.next()[14], '9');
    }
  });

  it('1% (Istio default): n = 100000 ids within 5 standard deviations of 1000 marked', () => {
    const ids = new RequestIdGenerator(100);
    const n = 100_000;
    let marked = 0;
    for (let i = 0; i < n; i++) if (isSampledMark(ids.next())) marked++;
    const sd = Math.sqrt(n * 0.01 * 0.99);
    assert.ok(Math.abs(marked - n * 0.01) < 5 * sd, `${marked} marked`);
  });

  it('every hex digit outside the fixed ones is uniform: n = 51200 ids, each digit within 6 sd', () => {
    const ids = new RequestIdGenerator(0);
    const n = 51_200;
    const counts = new Map<string, number>();
    // Positions 0-7 and 24-35 are fully random (the variant and version digits are not).
    for (let i = 0; i < n; i++) {
      const id = ids.next();
      for (const p of [0, 7, 24, 35]) counts.set(id[p]!, (counts.get(id[p]!) ?? 0) + 1);
    }
    const expected = (n * 4) / 16;
    const sd = Math.sqrt(n * 4 * (1 / 16) * (15 / 16));
    assert.equal(counts.size, 16);
    for (const [digit, c] of counts) assert.ok(Math.abs(c - expected) < 6 * sd, `${digit}: ${c}`);
  });
});
