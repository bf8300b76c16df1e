/**
 * Cardinality stays bounded by configuration (DESIGN.md, Telemetry; issue "Telemetry"): 10,000
 * requests with random paths, query strings and headers produce no more series than
 * peers x status codes x response flags that the configuration and the closed sets allow.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Registry } from 'prom-client';
import { ISTIO_REQUESTS_TOTAL } from '../../src/telemetry/istio-metric-names.ts';
import { createIstioMetrics } from '../../src/telemetry/istio-request-metrics.ts';
import type { ResponseLabelSets } from '../../src/telemetry/response-label-sets.ts';
import { mulberry32 } from '../lb/mulberry32.ts';
import { reviewsPeer } from './peer-labels.ts';
import { parseExposition, select } from './prom-text.ts';

interface FakeRequest {
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
}

describe('cardinality', () => {
  test('10,000 requests with random paths and headers: series bounded by the configuration', async () => {
    const random = mulberry32(20240611);
    const token = () => Math.floor(random() * 2 ** 32).toString(36);
    const registry = new Registry();
    const metrics = createIstioMetrics({ registry, reporter: 'source' });

    // Compile time: one ResponseLabelSets per cluster, from configuration only.
    const clusters: ResponseLabelSets[] = ['v1', 'v2', 'v3'].map((v) => metrics.forPeer(reviewsPeer(v)));
    const statuses = [200, 201, 404, 503, 0];
    const flags = ['-', 'UH', 'UF,URX'];

    // The request path: picks a cluster and sees a response; its request data is at hand but
    // the recorder has no way to take it.
    const seen: FakeRequest[] = [];
    for (let i = 0; i < 10_000; i++) {
      const req: FakeRequest = {
        path: `/reviews/${token()}?q=${token()}`,
        headers: { 'x-request-id': token(), 'user-agent': `agent/${token()}`, [`x-${token()}`]: token() },
      };
      seen.push(req);
      const cluster = clusters[Math.floor(random() * clusters.length)]!;
      const status = statuses[Math.floor(random() * statuses.length)]!;
      const flag = status === 0 ? flags[1 + Math.floor(random() * 2)]! : '-';
      metrics.record(cluster.get(status, flag), random() * 200, req.path.length, 100);
    }

    const text = await registry.metrics();
    const exp = parseExposition(text);
    const series = select(exp, ISTIO_REQUESTS_TOTAL);
    // 3 clusters x (4 statuses with no flag + status 0 with 2 flag lists).
    const bound = clusters.length * (statuses.length - 1 + 2);
    assert.equal(series.length, bound);
    assert.equal(metrics.labelSetCount, bound);
    assert.equal(
      series.reduce((n, s) => n + s.value, 0),
      10_000,
    );
    for (const h of ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes']) {
      assert.equal(select(exp, `${h}_count`).length, bound, h);
    }
    // Nothing from a request reached a label value.
    const values = new Set(exp.samples.flatMap((s) => s.labels.map(([, v]) => v)));
    for (const req of seen.slice(0, 500)) {
      assert.ok(!values.has(req.path));
      for (const v of Object.values(req.headers)) assert.ok(!values.has(v));
    }
    assert.doesNotMatch(text, /\/reviews\/|agent\//);
  });
});
