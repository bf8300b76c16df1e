/**
 * The bound on `source_*` label values read from requests: at most `maxPeers` distinct callers
 * get labels of their own; the rest, and anything unreadable, share the `unknown` entry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveWorkload } from '@dabba/discovery';
import type { IstioSourceLabels } from '../../src/telemetry/istio-peer-labels.ts';
import { encodePeerMetadata } from '../../src/telemetry/peer-metadata/encode-peer-metadata.ts';
import { PeerLabelCache } from '../../src/telemetry/peer-metadata/peer-label-cache.ts';

const header = (app: string, pod = `${app}-pod`) =>
  encodePeerMetadata(resolveWorkload({ namespace: 'ns', labels: { app } }), { name: pod, ip: '10.0.0.1' })
    .value;

describe('PeerLabelCache', () => {
  test('no header, an empty one or an unreadable one: the unknown entry', () => {
    const cache = new PeerLabelCache(5, (s: IstioSourceLabels) => s);
    assert.equal(cache.get(undefined), cache.unknown);
    assert.equal(cache.get(''), cache.unknown);
    assert.equal(cache.get('garbage!'), cache.unknown);
    assert.equal(cache.unknown.source_workload, 'unknown');
    assert.equal(cache.unknown.source_canonical_revision, 'latest');
    assert.equal(cache.peerCount, 0);
  });

  test('pods of one workload share an entry: the key is the labels, not the header', () => {
    let made = 0;
    const cache = new PeerLabelCache(5, (s: IstioSourceLabels) => {
      made++;
      return s;
    });
    const a = cache.get(header('cart', 'cart-1'));
    const b = cache.get(header('cart', 'cart-2'));
    assert.equal(a, b);
    assert.equal(a.source_workload, 'cart');
    assert.equal(cache.peerCount, 1);
    assert.equal(made, 2, 'the unknown entry and cart');
  });

  test('1000 random callers (seeded), maxPeers 10: 10 entries of their own, the rest unknown', () => {
    let seed = 99;
    const random = () => {
      seed = (seed * 1664525 + 1013904223) >>> 0;
      return seed.toString(36);
    };
    const cache = new PeerLabelCache(10, (s: IstioSourceLabels) => s);
    const seen = new Set<IstioSourceLabels>();
    for (let i = 0; i < 1000; i++) seen.add(cache.get(header(`w${random()}`)));
    assert.equal(cache.peerCount, 10);
    assert.equal(seen.size, 11);
    assert.ok(seen.has(cache.unknown));
  });

  test('maxPeers 0: every caller is unknown', () => {
    const cache = new PeerLabelCache(0, (s: IstioSourceLabels) => s);
    assert.equal(cache.get(header('cart')), cache.unknown);
  });
});
