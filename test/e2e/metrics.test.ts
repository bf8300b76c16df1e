/**
 * End to end: Istio's request metrics (`metrics` option) on real sockets, scraped over HTTP from
 * `serveMetrics` as Prometheus would. A known traffic mix must show up in `istio_requests_total`
 * and the histograms with the labels an Envoy sidecar writes on the source side (istio.io
 * "Istio Standard Metrics"; istio/proxy istio_stats.cc; Envoy response flags UF / URX).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh, serveMetrics } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { register as defaultRegister, Registry } from 'prom-client';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  serviceYaml,
  versionSubsetsYaml,
} from '../support/mesh-folder.ts';
import { parseSamples, pickSamples, type Sample } from '../support/prom-samples.ts';
import { closedPort, startUpstream, type Upstream } from '../support/upstream.ts';

function one(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = pickSamples(samples, name, labels);
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} series`);
  return found[0]!.value;
}

/** The length of an upstream's HTTP/1.1 response head, read off a raw socket. */
async function rawResponseHeadBytes(port: number, host: string): Promise<number> {
  const socket = connect(port, '127.0.0.1');
  socket.write(`GET /r HTTP/1.1\r\nhost: ${host}\r\nconnection: close\r\n\r\n`);
  const chunks: Buffer[] = [];
  for await (const chunk of socket) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('latin1');
  // `connection: close` makes the server answer `Connection: close` where the mesh's pooled
  // requests get `Connection: keep-alive` and `Keep-Alive: timeout=5`.
  const keepAlive = 'Connection: keep-alive\r\nKeep-Alive: timeout=5\r\n'.length;
  return text.indexOf('\r\n\r\n') + 4 - 'Connection: close\r\n'.length + keepAlive;
}

const SOURCE = {
  reporter: 'source',
  source_workload: 'productpage',
  source_workload_namespace: 'default',
  source_principal: 'unknown',
  source_app: 'productpage',
  source_version: 'v1',
  source_canonical_service: 'productpage',
  source_canonical_revision: 'v1',
  source_cluster: 'unknown',
};

const REVIEWS_V1_200 = {
  ...SOURCE,
  destination_workload: 'reviews',
  destination_workload_namespace: 'default',
  destination_principal: 'unknown',
  destination_app: 'reviews',
  destination_version: 'v1',
  destination_service: 'reviews.default.svc.cluster.local',
  destination_service_name: 'reviews',
  destination_service_namespace: 'default',
  destination_canonical_service: 'reviews',
  destination_canonical_revision: 'v1',
  destination_cluster: 'unknown',
  request_protocol: 'http',
  response_flags: '-',
  connection_security_policy: 'unknown',
  response_code: '200',
  grpc_response_status: '',
};

const BODY = 'reviews v1 says hello';

describe('Istio request metrics', () => {
  let folder: MeshFolder;
  let reviews: Upstream;
  let ratings: Upstream;
  let mesh: Mesh;
  let registry: Registry;
  let server: Server;

  before(async () => {
    reviews = await startUpstream('reviews-v1', (_req, res) => res.end(BODY));
    ratings = await startUpstream('ratings', (_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    const refused = await closedPort();
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      `${serviceYaml('reviews', 9080, [{ name: 'reviews-1', port: reviews.port, labels: { version: 'v1' } }])}---
${serviceYaml('ratings', 9080, [{ name: 'ratings-1', port: ratings.port, labels: { version: 'v1' } }])}---
${serviceYaml('details', 9080, [{ name: 'details-1', port: refused, labels: { version: 'v1' } }])}---
${versionSubsetsYaml('reviews', { v1: 'v1' })}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - route: [{ destination: { host: reviews, subset: v1 } }]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ratings }
spec:
  hosts: [ratings]
  http:
    - route: [{ destination: { host: ratings } }]
      retries: { attempts: 2, retryOn: '503', perTryTimeout: 5s }
`,
    );
    registry = new Registry();
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: {
        namespace: 'default',
        serviceAccount: 'bookinfo-productpage',
        labels: { app: 'productpage', version: 'v1' },
      },
      metrics: { registry },
    });
    server = await serveMetrics(mesh, { port: 0 });
  });

  after(async () => {
    await new Promise<void>((resolve) => server?.close(() => resolve()));
    await mesh?.close();
    await reviews?.close();
    await ratings?.close();
    await folder?.remove();
  });

  test('a known traffic mix is scraped with the exact labels and counts', async () => {
    for (let i = 0; i < 30; i++) {
      const res = await request('http://reviews:9080/r', { dispatcher: mesh });
      assert.equal(await res.body.text(), BODY);
    }
    for (let i = 0; i < 10; i++) {
      const res = await request('http://ratings:9080/r', { dispatcher: mesh });
      assert.equal(res.statusCode, 503);
      await res.body.text();
    }
    for (let i = 0; i < 5; i++) {
      await assert.rejects(request('http://details:9080/d', { dispatcher: mesh }), {
        code: 'DABBA_UPSTREAM_CONNECT_FAILURE',
      });
    }

    const { port } = server.address() as AddressInfo;
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), registry.contentType);
    const samples = parseSamples(await res.text());

    // Every label of the 200 series, exactly.
    const ok = pickSamples(samples, 'istio_requests_total', { destination_service_name: 'reviews' });
    assert.equal(ok.length, 1);
    assert.deepEqual(ok[0]!.labels, REVIEWS_V1_200);
    assert.equal(ok[0]!.value, 30);

    // A 503 forwarded after its retries (2, on 503) were used up is flagged URX, as Envoy does.
    const ratingsLabels = { destination_service: 'ratings.default.svc.cluster.local' };
    assert.equal(pickSamples(samples, 'istio_requests_total', ratingsLabels).length, 1);
    assert.equal(
      one(samples, 'istio_requests_total', { ...ratingsLabels, response_code: '503', response_flags: 'URX' }),
      10,
    );
    assert.equal(ratings.received.length, 30, 'each request tried three times, counted once');

    // Refused connections: Envoy's local 503 with UF,URX.
    assert.equal(
      one(samples, 'istio_requests_total', {
        destination_service: 'details.default.svc.cluster.local',
        destination_app: 'details',
        response_code: '503',
        response_flags: 'UF,URX',
      }),
      5,
    );
    const total = pickSamples(samples, 'istio_requests_total', {}).reduce((n, s) => n + s.value, 0);
    assert.equal(total, 45);

    // Histograms agree with the counter, bucket by bucket.
    for (const [series, count] of [
      [{ destination_service_name: 'reviews' }, 30],
      [{ destination_service_name: 'ratings' }, 10],
      [{ destination_service_name: 'details' }, 5],
    ] as const) {
      for (const metric of [
        'istio_request_duration_milliseconds',
        'istio_request_bytes',
        'istio_response_bytes',
      ]) {
        assert.equal(
          one(samples, `${metric}_count`, series),
          count,
          `${metric} ${series.destination_service_name}`,
        );
        const buckets = pickSamples(samples, `${metric}_bucket`, series);
        assert.equal(buckets.length, 20, 'Envoy default buckets + +Inf');
        assert.equal(buckets.at(-1)!.labels.le, '+Inf');
        assert.equal(buckets.at(-1)!.value, count);
        for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i]!.value >= buckets[i - 1]!.value);
      }
    }
    // Istio records wire bytes (istio_stats.cc: the downstream bytes meter): the response head as
    // HTTP/1.1 writes it plus the body. The head is measured here off a raw socket to the upstream.
    const head = await rawResponseHeadBytes(reviews.port, 'reviews:9080');
    assert.equal(
      one(samples, 'istio_response_bytes_sum', { destination_service_name: 'reviews' }),
      30 * (head + BODY.length),
    );
    // `GET /r HTTP/1.1\r\n` + `host: reviews:9080\r\n` + `\r\n`, no body.
    assert.equal(one(samples, 'istio_request_bytes_sum', { destination_service_name: 'reviews' }), 30 * 39);
    assert.equal(one(samples, 'istio_response_bytes_sum', { destination_service_name: 'details' }), 0);
    assert.equal(
      one(samples, 'istio_request_duration_milliseconds_bucket', {
        destination_service_name: 'reviews',
        le: '+Inf',
      }),
      30,
    );

    // The user's registry has them; prom-client's global register does not.
    assert.ok(registry.getSingleMetric('istio_requests_total'));
    assert.equal(mesh.metrics, registry);
    assert.equal(defaultRegister.getSingleMetric('istio_requests_total'), undefined);
    assert.equal((await fetch(`http://127.0.0.1:${port}/other`)).status, 404);
  });

  test('label values never come from requests: random paths and headers add no series', async () => {
    const before = (await registry.getSingleMetricAsString('istio_requests_total')).split('\n').length;
    for (let i = 0; i < 50; i++) {
      const res = await request(`http://reviews:9080/${Math.random()}`, {
        dispatcher: mesh,
        headers: { [`x-${i}`]: String(Math.random()), 'user-agent': String(i) },
      });
      await res.body.text();
    }
    const after = (await registry.getSingleMetricAsString('istio_requests_total')).split('\n').length;
    assert.equal(after, before);
  });

  test('with the option absent nothing is registered and mesh.metrics is undefined', async () => {
    const plain = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
    try {
      const res = await request('http://reviews:9080/r', { dispatcher: plain });
      await res.body.text();
      assert.equal(plain.metrics, undefined);
      assert.equal(defaultRegister.getSingleMetric('istio_requests_total'), undefined);
      await assert.rejects(serveMetrics(plain, { port: 0 }), { code: 'DABBA_CONFIG_INVALID' });
    } finally {
      await plain.close();
    }
  });

  test('metrics: { enabled: false } is off; a bad registry is a config error', async () => {
    const off = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      metrics: { enabled: false },
    });
    assert.equal(off.metrics, undefined);
    await off.close();
    await assert.rejects(
      createMesh({
        config: istioFiles(folder.dir, { watch: false }),
        logger: null,
        metrics: { registry: {} as Registry },
      }),
      (err: { code?: string; issues?: { path: string }[] }) =>
        err.code === 'DABBA_CONFIG_INVALID' &&
        err.issues?.some((i) => i.path === 'metrics.registry') === true,
    );
  });
});
