/**
 * End to end: the inbound side of a sidecar's telemetry on real sockets. A server wrapped with
 * `mesh.inbound()` records Istio's standard metrics with `reporter="destination"`, taking the
 * `source_*` labels from the caller's `x-envoy-peer-metadata` (istio/proxy peer_metadata filter
 * and istio_stats.cc `Reporter::ServerSidecar`), answers with its own metadata, and keeps the
 * exchange headers away from the application; a Dabba client sends and strips them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import {
  connect as connectH2,
  createServer as createH2Server,
  type Http2ServerRequest,
  type Http2ServerResponse,
} from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { type Struct, StructSchema, type Value, ValueSchema } from '@bufbuild/protobuf/wkt';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { parseSamples, type Sample } from '../support/prom-samples.ts';
import { seededRandom } from '../support/stats.ts';

async function series(registry: Registry, labels: Record<string, string>): Promise<Sample[]> {
  const samples = parseSamples(await registry.metrics());
  return samples.filter(
    (s) => s.name === 'istio_requests_total' && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
}

const str = (value: string): Value => create(ValueSchema, { kind: { case: 'stringValue', value } });

/**
 * What an Istio sidecar sends: the Struct `convertWorkloadMetadataToStruct` builds from its node
 * metadata (istio/proxy extensions/common/metadata_object.cc), serialized and base64 encoded.
 */
function sidecarMetadata(fields: Record<string, string>, labels: Record<string, string>): string {
  const all: Record<string, Value> = {};
  for (const [k, v] of Object.entries(fields)) all[k] = str(v);
  const inner: Record<string, Value> = {};
  for (const [k, v] of Object.entries(labels)) inner[k] = str(v);
  all.LABELS = create(ValueSchema, {
    kind: { case: 'structValue', value: create(StructSchema, { fields: inner }) },
  });
  return Buffer.from(toBinary(StructSchema, create(StructSchema, { fields: all }))).toString('base64');
}

function decodeStruct(value: string): Record<string, unknown> {
  const s: Struct = fromBinary(StructSchema, Buffer.from(value, 'base64'));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s.fields)) {
    out[k] =
      v.kind.case === 'structValue'
        ? Object.fromEntries(Object.entries(v.kind.value.fields).map(([lk, lv]) => [lk, lv.kind.value]))
        : v.kind.value;
  }
  return out;
}

interface RawResponse {
  readonly status: number;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

/** A plain HTTP/1.1 request, as a sidecar or any non-Dabba client sends it. */
function rawRequest(port: number, headers: Record<string, string>, path = '/'): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const ISTIO_PRODUCTPAGE = sidecarMetadata(
  {
    NAME: 'productpage-v1-6b746f74dc-9stvs',
    NAMESPACE: 'bookinfo',
    WORKLOAD_NAME: 'productpage-v1',
    CLUSTER_ID: 'Kubernetes',
    OWNER: 'kubernetes://apis/apps/v1/namespaces/bookinfo/deployments/productpage-v1',
  },
  {
    app: 'productpage',
    version: 'v1',
    'service.istio.io/canonical-name': 'productpage',
    'service.istio.io/canonical-revision': 'v1',
  },
);
const ISTIO_PRODUCTPAGE_ID =
  'sidecar~10.244.0.12~productpage-v1-6b746f74dc-9stvs.bookinfo~bookinfo.svc.cluster.local';

/** The `destination_*` labels of the reviews server below, as its sidecar would write them. */
const REVIEWS_DESTINATION = {
  reporter: 'destination',
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
  connection_security_policy: 'none',
};

const UNKNOWN_SOURCE = {
  source_workload: 'unknown',
  source_workload_namespace: 'unknown',
  source_principal: 'unknown',
  source_app: 'unknown',
  source_version: 'unknown',
  source_canonical_service: 'unknown',
  source_canonical_revision: 'latest',
  source_cluster: 'unknown',
};

describe('inbound metrics and peer metadata exchange', () => {
  let folder: MeshFolder;
  let reviewsServer: Server;
  let reviewsPort: number;
  let client: Mesh;
  let clientRegistry: Registry;
  let reviews: Mesh;
  let reviewsRegistry: Registry;
  /** Headers the application behind `mesh.inbound()` saw, per request path. */
  const seen = new Map<string, IncomingMessage['headers']>();
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();

  const app = (req: IncomingMessage, res: ServerResponse) => {
    seen.set(req.url ?? '', { ...req.headers });
    if (req.url === '/slow') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      return; // never ends: the client goes away first
    }
    if (req.url === '/grpc') {
      res.writeHead(200, { 'content-type': 'application/grpc', trailer: 'grpc-status' });
      res.addTrailers({ 'grpc-status': '5' });
      res.end(Buffer.alloc(5));
      return;
    }
    if (req.url === '/missing') {
      res.statusCode = 404;
      res.end('no');
      return;
    }
    res.end('reviews v1');
  };

  before(async () => {
    reviewsServer = createServer((req, res) => handler(req, res));
    await new Promise<void>((resolve) => reviewsServer.listen(0, '127.0.0.1', resolve));
    reviewsPort = (reviewsServer.address() as AddressInfo).port;
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      serviceYaml('reviews', 9080, [{ name: 'reviews-1', port: reviewsPort, labels: { version: 'v1' } }]),
    );
    clientRegistry = new Registry();
    client = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'productpage', version: 'v1' } },
      metrics: { registry: clientRegistry },
    });
    reviewsRegistry = new Registry();
    reviews = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'reviews', version: 'v1' } },
      metrics: { registry: reviewsRegistry },
    });
    handler = reviews.inbound(app, { port: reviewsPort });
  });

  after(async () => {
    reviewsServer?.closeAllConnections();
    await new Promise<void>((resolve) => reviewsServer?.close(() => resolve()));
    await client?.close();
    await reviews?.close();
    await folder?.remove();
  });

  test('an Istio sidecar caller is recorded with its labels, answered with ours, and hidden from the app', async () => {
    const res = await rawRequest(
      reviewsPort,
      { 'x-envoy-peer-metadata': ISTIO_PRODUCTPAGE, 'x-envoy-peer-metadata-id': ISTIO_PRODUCTPAGE_ID },
      '/sidecar',
    );
    assert.equal(res.status, 200);
    const app = seen.get('/sidecar')!;
    assert.equal(app['x-envoy-peer-metadata'], undefined, 'the application never sees the peer headers');
    assert.equal(app['x-envoy-peer-metadata-id'], undefined);

    // The answer a sidecar of this workload would give (MXPropagationMethod on the response).
    const answer = decodeStruct(String(res.headers['x-envoy-peer-metadata']));
    assert.equal(answer.NAMESPACE, 'default');
    assert.equal(answer.WORKLOAD_NAME, 'reviews');
    assert.deepEqual(answer.LABELS, {
      app: 'reviews',
      'service.istio.io/canonical-name': 'reviews',
      'service.istio.io/canonical-revision': 'v1',
      version: 'v1',
    });
    assert.match(
      String(res.headers['x-envoy-peer-metadata-id']),
      /^sidecar~[^~]+~[^~]+\.default~default\.svc\.cluster\.local$/,
    );

    const found = await series(reviewsRegistry, {
      reporter: 'destination',
      source_workload: 'productpage-v1',
    });
    assert.equal(found.length, 1);
    assert.deepEqual(found[0]!.labels, {
      ...REVIEWS_DESTINATION,
      reporter: 'destination',
      source_workload: 'productpage-v1',
      source_workload_namespace: 'bookinfo',
      source_principal: 'unknown',
      source_app: 'productpage',
      source_version: 'v1',
      source_canonical_service: 'productpage',
      source_canonical_revision: 'v1',
      source_cluster: 'Kubernetes',
      request_protocol: 'http',
      response_flags: '-',
      response_code: '200',
      grpc_response_status: '',
    });
    assert.equal(found[0]!.value, 1);
  });

  test('a caller without metadata is unknown, and gets no metadata back', async () => {
    const before =
      (await series(reviewsRegistry, { ...UNKNOWN_SOURCE, response_code: '404' }))[0]?.value ?? 0;
    const res = await rawRequest(reviewsPort, {}, '/missing');
    assert.equal(res.status, 404);
    assert.equal(res.headers['x-envoy-peer-metadata'], undefined);
    assert.equal(res.headers['x-envoy-peer-metadata-id'], undefined);
    const found = await series(reviewsRegistry, {
      ...UNKNOWN_SOURCE,
      ...REVIEWS_DESTINATION,
      response_code: '404',
    });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.value, before + 1);
  });

  test('a Dabba client and a Dabba server record matching source and destination series', async () => {
    for (let i = 0; i < 3; i++) {
      const res = await request('http://reviews:9080/dabba', { dispatcher: client });
      assert.equal(await res.body.text(), 'reviews v1');
      assert.equal(res.headers['x-envoy-peer-metadata'], undefined, 'the client strips the answer');
      assert.equal(res.headers['x-envoy-peer-metadata-id'], undefined);
    }
    // Metadata the application tries to send is replaced by the workload's own, as Envoy sets it.
    const forged = await request('http://reviews:9080/dabba', {
      dispatcher: client,
      headers: { 'x-envoy-peer-metadata': ISTIO_PRODUCTPAGE },
    });
    await forged.body.text();
    const app = seen.get('/dabba')!;
    assert.equal(app['x-envoy-peer-metadata'], undefined);

    const source = await series(clientRegistry, { reporter: 'source', destination_service_name: 'reviews' });
    const destination = await series(reviewsRegistry, {
      reporter: 'destination',
      source_workload: 'productpage',
    });
    assert.equal(source.length, 1);
    assert.equal(destination.length, 1);
    assert.equal(source[0]!.value, 4);
    assert.equal(destination[0]!.value, 4);
    // Every workload label agrees; only the reporter and what Istio writes per side differ
    // (connection_security_policy: `unknown` on the source side, `none` without mTLS on the other).
    const strip = (l: Readonly<Record<string, string>>) => {
      const { reporter: _r, connection_security_policy: _c, ...rest } = l;
      return rest;
    };
    assert.deepEqual(strip(destination[0]!.labels), strip(source[0]!.labels));
    assert.equal(destination[0]!.labels.source_app, 'productpage');
    assert.equal(destination[0]!.labels.source_canonical_revision, 'v1');
    assert.equal(destination[0]!.labels.connection_security_policy, 'none');
  });

  test('malformed and oversized metadata is ignored: recorded as unknown, the request still served', async () => {
    const bad = [
      'not base64 at all!',
      randomBytes(64).toString('base64'),
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).toString('base64'),
      'A'.repeat(6000),
      sidecarMetadata({ WORKLOAD_NAME: 'x'.repeat(5000) }, {}),
    ];
    const before =
      (await series(reviewsRegistry, { ...UNKNOWN_SOURCE, response_code: '200' }))[0]?.value ?? 0;
    for (const value of bad) {
      const res = await rawRequest(reviewsPort, { 'x-envoy-peer-metadata': value }, '/bad');
      assert.equal(res.status, 200);
      assert.equal(res.body, 'reviews v1');
    }
    const found = await series(reviewsRegistry, {
      ...UNKNOWN_SOURCE,
      ...REVIEWS_DESTINATION,
      response_code: '200',
    });
    assert.equal(found[0]!.value, before + bad.length);
  });

  test('a caller that disconnects before the response ends is recorded with DC', async () => {
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest(
        { host: '127.0.0.1', port: reviewsPort, path: '/slow', agent: false },
        (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        },
      );
      req.on('error', () => {});
      req.on('close', () => resolve());
      req.once('error', reject);
      req.end();
    });
    await waitFor(
      async () =>
        (await series(reviewsRegistry, { reporter: 'destination', response_flags: 'DC' })).length === 1,
      5000,
      'the DC series',
    );
    const [dc] = await series(reviewsRegistry, { reporter: 'destination', response_flags: 'DC' });
    assert.equal(dc!.labels.response_code, '200', 'headers were sent before the disconnect');
  });

  test('gRPC requests are recorded as grpc with the grpc-status trailer', async () => {
    const res = await rawRequest(reviewsPort, { 'content-type': 'application/grpc' }, '/grpc');
    assert.equal(res.status, 200);
    const found = await series(reviewsRegistry, { reporter: 'destination', request_protocol: 'grpc' });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.labels.grpc_response_status, '5');
    assert.equal(found[0]!.labels.response_code, '200');
  });
});

describe('inbound over HTTP/2 (compatibility API)', () => {
  test('an h2c server wrapped with mesh.inbound records the caller and answers with metadata', async () => {
    const folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      serviceYaml('details', 9080, [{ name: 'details-1', port: 1, labels: {} }]),
    );
    const registry = new Registry();
    const mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'details' } },
      metrics: { registry },
    });
    let sawHeader: unknown = 'not called';
    const server = createH2Server(
      mesh.inbound<Http2ServerRequest, Http2ServerResponse>((req, res) => {
        sawHeader = req.headers['x-envoy-peer-metadata'];
        res.setHeader('content-length', '2');
        res.end('ok');
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const session = connectH2(`http://127.0.0.1:${port}`);
    try {
      const answer = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = session.request({ ':path': '/', 'x-envoy-peer-metadata': ISTIO_PRODUCTPAGE });
        let headers: Record<string, unknown> = {};
        stream.on('response', (h) => (headers = h));
        stream.on('data', () => {});
        stream.on('end', () => resolve(headers));
        stream.on('error', reject);
        stream.end();
      });
      assert.equal(answer[':status'], 200);
      assert.equal(decodeStruct(String(answer['x-envoy-peer-metadata'])).WORKLOAD_NAME, 'details');
      assert.equal(sawHeader, undefined, 'the application does not see the peer header');
      await waitFor(
        async () =>
          (await series(registry, { reporter: 'destination', source_workload: 'productpage-v1' })).length ===
          1,
        5000,
        'the HTTP/2 series',
      );
      const text = await registry.metrics();
      assert.match(
        text,
        /istio_response_bytes_sum\{reporter="destination",[^}]*source_workload="productpage-v1"[^}]*\} 2/,
      );
    } finally {
      session.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mesh.close();
      await folder.remove();
    }
  });
});

describe('inbound cardinality with random peer metadata', () => {
  test('at most maxPeers callers get series of their own; the rest are unknown', async () => {
    const folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      serviceYaml('ratings', 9080, [{ name: 'ratings-1', port: 1, labels: {} }]),
    );
    const registry = new Registry();
    const mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'ratings' } },
      metrics: { registry },
    });
    const maxPeers = 10;
    const server = createServer(mesh.inbound((_req, res) => res.end('ok'), { maxPeers }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      // 200 requests from 100 random workloads (seeded), 2 requests each.
      const random = seededRandom(7);
      const names = Array.from({ length: 100 }, () => `w${Math.floor(random() * 1e9).toString(36)}`);
      for (const name of [...names, ...names]) {
        const value = sidecarMetadata({ NAMESPACE: 'ns', WORKLOAD_NAME: name }, { app: name });
        const res = await rawRequest(port, { 'x-envoy-peer-metadata': value });
        assert.equal(res.status, 200);
      }
      const all = await series(registry, { reporter: 'destination' });
      const workloads = new Set(all.map((s) => s.labels.source_workload));
      assert.equal(workloads.size, maxPeers + 1, 'maxPeers callers plus unknown');
      assert.ok(workloads.has('unknown'));
      assert.equal(
        all.reduce((n, s) => n + s.value, 0),
        200,
        'every request counted',
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await mesh.close();
      await folder.remove();
    }
  });
});
