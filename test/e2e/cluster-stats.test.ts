/**
 * End to end: Envoy's cluster stats (`envoy_cluster_*{cluster_name}` as an Istio sidecar's
 * Prometheus endpoint names them), the configuration stats, and gRPC detection in Istio's request
 * metrics, on real sockets, read from the registry's Prometheus text as a scrape would.
 *
 * Sources: Envoy cluster manager statistics docs (upstream_rq_total, upstream_rq_retry,
 * upstream_rq_retry_success: RetryStateImpl::shouldRetry; the charged code:
 * Filter::chargeUpstreamCode / chargeUpstreamAbort), Istio's bootstrap stats tags
 * (`_rq(_(\dxx))$` -> `response_code_class="5xx"`), istio/proxy istio_stats.cc
 * (`request_protocol`, `grpc_response_status` from Grpc::Common::getGrpcStatus).
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Registry } from 'prom-client';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  routeYaml,
  serviceYaml,
  waitFor,
} from '../support/mesh-folder.ts';
import { parseSamples, type Sample } from '../support/prom-samples.ts';
import { closedPort, startUpstream, type Upstream } from '../support/upstream.ts';

const cluster = (name: string) => `outbound|9080||${name}.default.svc.cluster.local`;

/** A gRPC-over-HTTP/1.1 stand-in: the status in a trailer (/trailer) or trailers-only (/header). */
async function startGrpcUpstream(): Promise<Server> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/grpc');
    if (req.url === '/trailer') {
      res.setHeader('trailer', 'grpc-status');
      res.write(Buffer.from([0, 0, 0, 0, 0]));
      res.addTrailers({ 'grpc-status': '5' });
      res.end();
      return;
    }
    res.setHeader('grpc-status', req.url === '/invalid' ? '99' : '7');
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

describe('Envoy cluster stats, config stats and gRPC in the metrics registry', () => {
  let folder: MeshFolder;
  let ok: Upstream;
  let down: Upstream;
  let flaky: Upstream;
  let grpc: Server;
  let refusedPort: number;
  let mesh: Mesh;
  let registry: Registry;
  const scrape = async () => parseSamples(await registry.metrics());
  const value = (samples: Sample[], name: string, labels: Record<string, string>) => {
    const found = samples.filter(
      (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
    );
    assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} series`);
    return found[0]!.value;
  };

  before(async () => {
    ok = await startUpstream('ok', (_req, res) => res.end('ok'));
    down = await startUpstream('down', (_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    let n = 0;
    // 503 then 200, alternately: every request succeeds on its one retry.
    flaky = await startUpstream('flaky', (_req, res) => {
      res.statusCode = n++ % 2 === 0 ? 503 : 200;
      res.end();
    });
    grpc = await startGrpcUpstream();
    refusedPort = await closedPort();
    folder = await createMeshFolder();
    const retry503 = (host: string) => routeYaml(host, "retries: { attempts: 2, retryOn: '503' }");
    await folder.write(
      'svc.yaml',
      `${serviceYaml('ok', 9080, [{ name: 'ok-1', port: ok.port, labels: { version: 'v1' } }])}---
${serviceYaml('down', 9080, [{ name: 'down-1', port: down.port, labels: { version: 'v1' } }])}---
${serviceYaml('flaky', 9080, [{ name: 'flaky-1', port: flaky.port, labels: { version: 'v1' } }])}---
${serviceYaml('refused', 9080, [{ name: 'refused-1', port: refusedPort, labels: { version: 'v1' } }])}---
${serviceYaml('grpc', 9080, [{ name: 'grpc-1', port: (grpc.address() as AddressInfo).port, labels: { version: 'v1' } }])}---
${retry503('down')}---
${retry503('flaky')}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: down }
spec:
  host: down
  trafficPolicy:
    outlierDetection: { consecutive5xxErrors: 100, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100 }
`,
    );
    registry = new Registry();
    mesh = await createMesh({
      config: istioFiles(folder.dir, { debounceMs: 20 }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'productpage', version: 'v1' } },
      metrics: { registry },
    });
  });

  after(async () => {
    await mesh?.close();
    await Promise.all([ok?.close(), down?.close(), flaky?.close()]);
    await new Promise<void>((resolve) => (grpc ? grpc.close(() => resolve()) : resolve()));
    await folder?.remove();
  });

  const get = async (url: string, headers: Record<string, string> = {}) => {
    const res = await request(url, { dispatcher: mesh, headers });
    await res.body.text();
    return res.statusCode;
  };

  test('request, retry and response-class counters per cluster; live gauges read at scrape', async () => {
    for (let i = 0; i < 7; i++) assert.equal(await get('http://ok:9080/'), 200);
    for (let i = 0; i < 4; i++) assert.equal(await get('http://down:9080/'), 503);
    for (let i = 0; i < 5; i++) assert.equal(await get('http://flaky:9080/'), 200);
    const s = await scrape();

    const okName = { cluster_name: cluster('ok') };
    assert.equal(value(s, 'envoy_cluster_upstream_rq_total', okName), 7);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_completed', okName), 7);
    assert.equal(value(s, 'envoy_cluster_upstream_rq', { ...okName, response_code_class: '2xx' }), 7);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_retry', okName), 0);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_active', okName), 0);
    assert.equal(value(s, 'envoy_cluster_membership_total', okName), 1);
    assert.equal(value(s, 'envoy_cluster_membership_healthy', okName), 1);
    assert.equal(value(s, 'envoy_cluster_circuit_breakers_default_rq_open', okName), 0);

    // Three attempts per request (two retries on 503), the last 503 forwarded (URX): the
    // router charges one 5xx per request; retried responses are not upstream_rq_5xx.
    const downName = { cluster_name: cluster('down') };
    assert.equal(down.received.length, 12);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_total', downName), 12);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_retry', downName), 8);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_retry_success', downName), 0);
    assert.equal(value(s, 'envoy_cluster_upstream_rq', { ...downName, response_code_class: '5xx' }), 4);
    assert.equal(
      s.filter((x) => x.name === 'envoy_cluster_upstream_rq' && x.labels.cluster_name === cluster('down'))
        .length,
      1,
      'no 2xx series for a cluster that never answered 2xx',
    );
    // Outlier detection is configured there (consecutive 5xx 100: nothing ejected yet).
    assert.equal(value(s, 'envoy_cluster_outlier_detection_ejections_active', downName), 0);
    assert.equal(value(s, 'envoy_cluster_outlier_detection_ejections_enforced_total', downName), 0);
    assert.equal(
      s.filter((x) => x.name === 'envoy_cluster_outlier_detection_ejections_active').length,
      1,
      'outlier stats only for clusters that have outlier detection',
    );

    // 503 then 200 on the retry: one retry success per request.
    const flakyName = { cluster_name: cluster('flaky') };
    assert.equal(value(s, 'envoy_cluster_upstream_rq_total', flakyName), 10);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_retry', flakyName), 5);
    assert.equal(value(s, 'envoy_cluster_upstream_rq_retry_success', flakyName), 5);
    assert.equal(value(s, 'envoy_cluster_upstream_rq', { ...flakyName, response_code_class: '2xx' }), 5);

    // One series set per configured cluster, whatever the traffic.
    const clusters = new Set(
      s.filter((x) => x.name === 'envoy_cluster_membership_total').map((x) => x.labels.cluster_name),
    );
    assert.equal(clusters.size, value(s, 'envoy_cluster_manager_active_clusters', {}));
    for (const c of ['ok', 'down', 'flaky', 'grpc']) assert.ok(clusters.has(cluster(c)), c);
  });

  test('connection stats: active and opened connections as the upstream counts them, refused connects', async () => {
    for (let i = 0; i < 3; i++) assert.equal(await get('http://ok:9080/'), 200);
    const okName = { cluster_name: cluster('ok') };
    await waitFor(
      async () =>
        value(await scrape(), 'envoy_cluster_upstream_cx_active', okName) ===
        ok.connections.opened - ok.connections.closed,
      2000,
      'active connections as the upstream sees them',
    );
    const s = await scrape();
    assert.ok(ok.connections.opened >= 1);
    assert.equal(value(s, 'envoy_cluster_upstream_cx_total', okName), ok.connections.opened);
    assert.equal(value(s, 'envoy_cluster_upstream_cx_connect_fail', okName), 0);
    assert.equal(value(s, 'envoy_cluster_circuit_breakers_default_cx_open', okName), 0);

    // Istio's default retry policy retries connect-failure twice: three refused connects.
    await assert.rejects(request('http://refused:9080/', { dispatcher: mesh }), {
      code: 'DABBA_UPSTREAM_CONNECT_FAILURE',
    });
    const after = await scrape();
    const refusedName = { cluster_name: cluster('refused') };
    assert.equal(value(after, 'envoy_cluster_upstream_cx_connect_fail', refusedName), 3);
    assert.equal(value(after, 'envoy_cluster_upstream_cx_total', refusedName), 0);
    assert.equal(value(after, 'envoy_cluster_upstream_cx_active', refusedName), 0);
  });

  test('gRPC requests: request_protocol grpc and grpc_response_status from trailer or header', async () => {
    const grpcHeaders = { 'content-type': 'application/grpc+proto' };
    for (let i = 0; i < 3; i++) assert.equal(await get('http://grpc:9080/trailer', grpcHeaders), 200);
    for (let i = 0; i < 2; i++) assert.equal(await get('http://grpc:9080/header', grpcHeaders), 200);
    assert.equal(await get('http://grpc:9080/invalid', grpcHeaders), 200);
    assert.equal(await get('http://grpc:9080/header'), 200);
    const s = await scrape();
    const svc = { destination_service: 'grpc.default.svc.cluster.local' };
    const requests = (labels: Record<string, string>) =>
      value(s, 'istio_requests_total', { ...svc, ...labels });
    assert.equal(requests({ request_protocol: 'grpc', grpc_response_status: '5', response_code: '200' }), 3);
    assert.equal(requests({ request_protocol: 'grpc', grpc_response_status: '7' }), 2);
    // Outside 0..16: Envoy's InvalidCode.
    assert.equal(requests({ request_protocol: 'grpc', grpc_response_status: '-1' }), 1);
    // The same endpoint called without a gRPC content-type is plain HTTP.
    assert.equal(requests({ request_protocol: 'http', grpc_response_status: '' }), 1);
  });

  test('configuration stats: accepted and rejected updates, the serving version and time', async () => {
    let s = await scrape();
    assert.equal(value(s, 'dabba_config_updates_total', { result: 'accepted' }), 1);
    assert.equal(value(s, 'dabba_config_updates_total', { result: 'rejected' }), 0);
    const info = s.filter((x) => x.name === 'dabba_config_snapshot_info');
    assert.deepEqual(
      info.map((x) => [x.labels.version, x.value]),
      [[mesh.snapshot!.version, 1]],
    );
    const appliedAt = value(s, 'dabba_config_last_update_timestamp_seconds', {});
    assert.ok(Math.abs(appliedAt - Date.now() / 1000) < 60, `applied at ${appliedAt}`);

    const rejected = new Promise((resolve) => mesh.once('configError', resolve));
    await folder.write('bad.yaml', 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: [');
    await rejected;
    s = await scrape();
    assert.equal(value(s, 'dabba_config_updates_total', { result: 'rejected' }), 1);
    assert.equal(value(s, 'dabba_config_updates_total', { result: 'accepted' }), 1);
    await folder.write('bad.yaml', '');
    await waitFor(
      async () => value(await scrape(), 'dabba_config_updates_total', { result: 'accepted' }) === 2,
    );
    s = await scrape();
    assert.deepEqual(
      s.filter((x) => x.name === 'dabba_config_snapshot_info').map((x) => x.labels.version),
      [mesh.snapshot!.version],
      'only the serving version has a series',
    );
  });

  test('closing the mesh removes every metric it registered', async () => {
    const other = new Registry();
    const m = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      metrics: { registry: other },
    });
    assert.ok(other.getSingleMetric('envoy_cluster_upstream_rq_total'));
    assert.ok(other.getSingleMetric('dabba_config_updates_total'));
    await m.close();
    assert.equal(other.getMetricsAsArray().length, 0);
  });
});
