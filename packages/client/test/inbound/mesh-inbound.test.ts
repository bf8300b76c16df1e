/**
 * `mesh.inbound()` as an API: validated options, the listener itself when nothing is enabled (no
 * cost per request), and `reporter="destination"` next to `reporter="source"` in one registry.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ConfigSource } from '@dabba/discovery';
import { Registry } from 'prom-client';
import { ConfigError } from '../../src/errors.ts';
import { Mesh } from '../../src/mesh.ts';
import { createIstioMetrics } from '../../src/telemetry/istio-request-metrics.ts';
import { reviewsPeer } from '../telemetry/peer-labels.ts';

const source: ConfigSource = { name: 'test', subscribe: () => ({ close: async () => {} }) };

describe('mesh.inbound', () => {
  test('metrics off: the listener comes back unwrapped', async () => {
    const mesh = new Mesh({ config: source, logger: null });
    const listener = () => {};
    assert.equal(mesh.inbound(listener), listener);
    await mesh.close();
  });

  test('metrics on: a wrapper', async () => {
    const mesh = new Mesh({ config: source, logger: null, metrics: {} });
    const listener = () => {};
    assert.notEqual(mesh.inbound(listener), listener);
    await mesh.close();
  });

  test('invalid options and listeners are ConfigErrors', async () => {
    const mesh = new Mesh({ config: source, logger: null, metrics: {} });
    assert.throws(() => mesh.inbound(() => {}, { port: 70000 }), ConfigError);
    assert.throws(() => mesh.inbound('app' as never), ConfigError);
    await mesh.close();
  });
});

describe('IstioRequestMetrics.forReporter', () => {
  test('both reporters export through the same four metrics of one registry', async () => {
    const registry = new Registry();
    const source = createIstioMetrics({ registry, reporter: 'source' });
    const destination = source.forReporter('destination');
    assert.equal(source.forReporter('source'), source);
    source.record(source.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    destination.record(destination.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    destination.record(destination.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    const text = await registry.metrics();
    const totals = text.split('\n').filter((l) => l.startsWith('istio_requests_total{'));
    assert.equal(totals.length, 2);
    assert.ok(totals.some((l) => l.includes('reporter="source"') && l.endsWith(' 1')));
    assert.ok(totals.some((l) => l.includes('reporter="destination"') && l.endsWith(' 2')));
    assert.equal(source.labelSetCount, 2);
    destination.unregister();
    assert.equal(registry.getSingleMetric('istio_requests_total'), undefined);
  });
});
