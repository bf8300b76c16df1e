/**
 * End to end, on real sockets, scraped over HTTP: the requests a sidecar's stats filter counts
 * although the mesh answers them itself or sends them outside its clusters, recorded once each in
 * Istio's request metrics (`reporter="source"`) as Envoy + istio/proxy istio_stats.cc record them:
 *
 * - fault aborts: Envoy's fault filter local reply, `response_flags="FI"`, under the route's
 *   cluster (the weighted entry picked); a gRPC abort as a trailers-only 200 with the gRPC status;
 *   never counted in the cluster's `upstream_rq_*` (the router never ran);
 * - fault delays: the one record of the request carries `DI` merged with the router's flags in
 *   Envoy's order (ResponseFlagUtils::toShortString: `UF,DI,URX`, `UH,DI`, `DI,FI`, `DI,DC`) and a
 *   duration from the downstream request, before the delay; the cluster stats count the request
 *   normally once it goes upstream;
 * - redirects: their status and `-`, every destination label `unknown`;
 * - Istio's `block_all` (REGISTRY_ONLY) 502: `destination_service_name="BlackHoleCluster"`, and
 *   PassthroughCluster (the `allow_any` route and unknown ports):
 *   `destination_service_name="PassthroughCluster"` with the upstream's status and flags (istio.io
 *   blog "Monitoring blocked and passthrough external service traffic", HTTP proxy listener case);
 * - mirrors: never (Envoy's shadow requests bypass the filter chain: istio/istio#23496).
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { type AddressInfo, createServer as createNetServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh, serveMetrics } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Registry } from 'prom-client';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { parseSamples, pickSamples, type Sample } from '../support/prom-samples.ts';
import { closedPort, slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

const PORT = 8080;
/** The injected delay; the upstreams answer at once, so a delayed request takes at least this. */
const DELAY_MS = 300;

const UNKNOWN_DESTINATION = {
  destination_workload: 'unknown',
  destination_workload_namespace: 'unknown',
  destination_principal: 'unknown',
  destination_app: 'unknown',
  destination_version: 'unknown',
  destination_service: 'unknown',
  destination_service_name: 'unknown',
  destination_service_namespace: 'unknown',
  destination_canonical_service: 'unknown',
  destination_canonical_revision: 'unknown',
  destination_cluster: 'unknown',
};

function virtualService(name: string, http: string, route = `[{ destination: { host: ${name} } }]`): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  http:
    - ${http}
      route: ${route}
`;
}

async function scrape(server: Server): Promise<Sample[]> {
  const { port } = server.address() as AddressInfo;
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return parseSamples(await res.text());
}

/** The value of the one series of `name` carrying `labels`; fails on none or several. */
function one(samples: Sample[], name: string, labels: Record<string, string>): number {
  const found = pickSamples(samples, name, labels);
  assert.equal(found.length, 1, `${name} ${JSON.stringify(labels)}: ${found.length} series`);
  return found[0]!.value;
}

/** Every `istio_requests_total` series of a destination service name, as `code flags grpc: n`. */
function seriesOf(samples: Sample[], labels: Record<string, string>): string[] {
  return pickSamples(samples, 'istio_requests_total', labels)
    .map(
      (s) =>
        `${s.labels.response_code} ${s.labels.response_flags} ${s.labels.request_protocol}` +
        `${s.labels.grpc_response_status === '' ? '' : ` grpc=${s.labels.grpc_response_status}`}: ${s.value}`,
    )
    .sort();
}

function clusterStat(samples: Sample[], name: string, cluster: string): number {
  return pickSamples(samples, name, { cluster_name: cluster }).reduce((n, s) => n + s.value, 0);
}

describe('Istio request metrics of local answers, faults and catch-all clusters', () => {
  let folder: MeshFolder;
  const upstreams: Record<string, Upstream> = {};
  let refused: number;
  let allowAny: Mesh;
  let registryOnly: Mesh;
  let allowAnyRegistry: Registry;
  let registryOnlyRegistry: Registry;
  let allowAnyServer: Server;
  let registryOnlyServer: Server;

  before(async () => {
    for (const name of ['abort', 'split', 'grpc', 'delay', 'both', 'empty', 'outside', 'mirrored']) {
      upstreams[name] = await startUpstream(name);
    }
    upstreams.slow = await startUpstream('slow', slowHandler(5_000));
    refused = await closedPort();
    const outside = upstreams.outside!;
    const docs = [
      serviceYaml('abort', PORT, [
        { name: 'abort-1', port: upstreams.abort!.port, labels: { version: 'v1' } },
      ]),
      virtualService('abort', 'fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }'),
      serviceYaml('split', PORT, [
        { name: 'split-1', port: upstreams.split!.port, labels: { version: 'v1' } },
        { name: 'split-2', port: upstreams.split!.port, labels: { version: 'v2' } },
      ]),
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: split }
spec:
  host: split
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
    - { name: v9, labels: { version: v9 } }
`,
      virtualService(
        'split',
        'fault: { abort: { httpStatus: 429, percentage: { value: 100 } } }',
        '[{ destination: { host: split, subset: v1 }, weight: 0 }, { destination: { host: split, subset: v2 }, weight: 100 }]',
      ),
      serviceYaml('grpc', PORT, [{ name: 'grpc-1', port: upstreams.grpc!.port, labels: { version: 'v1' } }]),
      virtualService(
        'grpc',
        'fault: { abort: { grpcStatus: PERMISSION_DENIED, percentage: { value: 100 } } }',
      ),
      serviceYaml('delay', PORT, [
        { name: 'delay-1', port: upstreams.delay!.port, labels: { version: 'v1' } },
      ]),
      virtualService('delay', `fault: { delay: { fixedDelay: ${DELAY_MS}ms, percentage: { value: 100 } } }`),
      serviceYaml('both', PORT, [{ name: 'both-1', port: upstreams.both!.port, labels: { version: 'v1' } }]),
      virtualService(
        'both',
        `fault: { delay: { fixedDelay: ${DELAY_MS}ms, percentage: { value: 100 } }, abort: { httpStatus: 503, percentage: { value: 100 } } }`,
      ),
      serviceYaml('refusing', PORT, [{ name: 'refusing-1', port: refused, labels: { version: 'v1' } }]),
      virtualService(
        'refusing',
        `fault: { delay: { fixedDelay: ${DELAY_MS}ms, percentage: { value: 100 } } }`,
      ),
      serviceYaml('empty', PORT, [
        { name: 'empty-1', port: upstreams.empty!.port, labels: { version: 'v1' } },
      ]),
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: empty }
spec:
  host: empty
  subsets:
    - { name: v9, labels: { version: v9 } }
`,
      virtualService(
        'empty',
        `fault: { delay: { fixedDelay: ${DELAY_MS}ms, percentage: { value: 100 } } }`,
        '[{ destination: { host: empty, subset: v9 } }]',
      ),
      serviceYaml('slow', PORT, [{ name: 'slow-1', port: upstreams.slow!.port, labels: { version: 'v1' } }]),
      virtualService('slow', 'fault: { delay: { fixedDelay: 5s, percentage: { value: 100 } } }'),
      serviceYaml('moved', PORT, [{ name: 'moved-1', port: upstreams.abort!.port, labels: {} }]),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: moved }
spec:
  hosts: [moved]
  http:
    - match: [{ uri: { prefix: /late } }]
      redirect: { uri: /new }
      fault: { delay: { fixedDelay: ${DELAY_MS}ms, percentage: { value: 100 } } }
    - redirect: { uri: /new }
`,
      serviceYaml('mirrored', PORT, [
        { name: 'mirrored-1', port: upstreams.mirrored!.port, labels: { version: 'v1' } },
      ]),
      serviceYaml('shadow', PORT, [
        { name: 'shadow-1', port: upstreams.mirrored!.port, labels: { version: 'v1' } },
      ]),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: mirrored }
spec:
  hosts: [mirrored]
  http:
    - route: [{ destination: { host: mirrored } }]
      mirror: { host: shadow }
      mirrorPercentage: { value: 100 }
`,
      // A mesh service on the outside upstream's own port: other hosts on that port take Istio's
      // catch-all route (`allow_any` or `block_all`).
      serviceYaml('known', outside.port, [
        { name: 'known-1', port: outside.port, labels: { version: 'v1' } },
      ]),
    ];
    folder = await createMeshFolder();
    await folder.write('mesh.yaml', docs.join('---\n'));
    const workload = { namespace: 'default', labels: { app: 'productpage', version: 'v1' } };
    allowAnyRegistry = new Registry();
    allowAny = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload,
      metrics: { registry: allowAnyRegistry },
    });
    allowAnyServer = await serveMetrics(allowAny, { port: 0 });
    registryOnlyRegistry = new Registry();
    registryOnly = await createMesh({
      config: istioFiles(folder.dir, { watch: false, mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' } }),
      logger: null,
      workload,
      metrics: { registry: registryOnlyRegistry },
    });
    registryOnlyServer = await serveMetrics(registryOnly, { port: 0 });
  });

  after(async () => {
    for (const s of [allowAnyServer, registryOnlyServer]) await new Promise<void>((r) => s?.close(() => r()));
    await allowAny?.close();
    await registryOnly?.close();
    for (const u of Object.values(upstreams)) await u.close();
    await folder?.remove();
  });

  test('fault aborts: one FI series per route cluster (the weighted entry picked), nothing sent, no upstream_rq', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await request(`http://abort:${PORT}/a`, { dispatcher: allowAny });
      assert.equal(res.statusCode, 503);
      await res.body.dump();
    }
    for (let i = 0; i < 3; i++) {
      const res = await request(`http://split:${PORT}/s`, { dispatcher: allowAny });
      assert.equal(res.statusCode, 429);
      await res.body.dump();
    }
    assert.equal(upstreams.abort!.received.length, 0);
    assert.equal(upstreams.split!.received.length, 0);
    const samples = await scrape(allowAnyServer);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'abort' }), ['503 FI http: 4']);
    const abortLabels = {
      destination_service: 'abort.default.svc.cluster.local',
      destination_app: 'abort',
      destination_version: 'v1',
      response_code: '503',
      response_flags: 'FI',
      grpc_response_status: '',
      source_app: 'productpage',
    };
    // The local reply's head and `fault filter abort` body; the request's head.
    const bytes = pickSamples(samples, 'istio_response_bytes_sum', abortLabels);
    assert.equal(bytes.length, 1);
    assert.ok(bytes[0]!.value > 4 * 'fault filter abort'.length, `response bytes ${bytes[0]!.value}`);
    assert.ok(one(samples, 'istio_request_bytes_sum', abortLabels) > 0);
    assert.equal(one(samples, 'istio_request_duration_milliseconds_count', abortLabels), 4);
    // The weighted entry picked (v2: v1 weighs 0), not the route's first destination.
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'split', destination_version: 'v2' }), [
      '429 FI http: 3',
    ]);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'split', destination_version: 'v1' }), []);
    for (const cluster of [
      'outbound|8080||abort.default.svc.cluster.local',
      'outbound|8080|v2|split.default.svc.cluster.local',
    ]) {
      assert.equal(clusterStat(samples, 'envoy_cluster_upstream_rq_total', cluster), 0, cluster);
      assert.equal(clusterStat(samples, 'envoy_cluster_upstream_rq', cluster), 0, cluster);
    }
  });

  test('a gRPC fault abort: Envoy’s trailers-only 200 with the configured status, request_protocol grpc', async () => {
    const res = await request(`http://grpc:${PORT}/pkg.Svc/Method`, {
      dispatcher: allowAny,
      method: 'POST',
      headers: { 'content-type': 'application/grpc' },
      body: Buffer.alloc(5),
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['grpc-status'], '7');
    await res.body.dump();
    const samples = await scrape(allowAnyServer);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'grpc' }), ['200 FI grpc grpc=7: 1']);
  });

  test('fault delays: DI merged in Envoy’s order with the router’s flags, duration from before the delay', async () => {
    const started = performance.now();
    const sends = [
      ...Array.from({ length: 3 }, () => request(`http://delay:${PORT}/d`, { dispatcher: allowAny })),
      request(`http://both:${PORT}/b`, { dispatcher: allowAny }),
      request(`http://moved:${PORT}/late`, { dispatcher: allowAny }),
    ];
    const statuses: number[] = [];
    for (const res of await Promise.all(sends)) {
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    assert.deepEqual(statuses, [200, 200, 200, 503, 301]);
    await assert.rejects(request(`http://refusing:${PORT}/r`, { dispatcher: allowAny }), {
      code: 'DABBA_UPSTREAM_CONNECT_FAILURE',
    });
    await assert.rejects(request(`http://empty:${PORT}/e`, { dispatcher: allowAny }), {
      code: 'DABBA_NO_HEALTHY_UPSTREAM',
    });
    assert.ok(performance.now() - started >= DELAY_MS);
    assert.equal(upstreams.delay!.received.length, 3);
    assert.equal(upstreams.both!.received.length, 0);

    const samples = await scrape(allowAnyServer);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'delay' }), ['200 DI http: 3']);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'both' }), ['503 DI,FI http: 1']);
    // Istio's default retries (2) on refused connections: UF and URX, DI between them.
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'refusing' }), ['503 UF,DI,URX http: 1']);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'empty' }), ['503 UH,DI http: 1']);
    // A redirect answered after its delay: its status, DI, destination unknown.
    assert.equal(
      one(samples, 'istio_requests_total', {
        ...UNKNOWN_DESTINATION,
        response_code: '301',
        response_flags: 'DI',
      }),
      1,
    );

    // Every delayed record took at least the delay: nothing at or under 250 ms, all under +Inf.
    for (const [labels, count] of [
      [{ destination_service_name: 'delay' }, 3],
      [{ destination_service_name: 'both' }, 1],
      [{ destination_service_name: 'refusing' }, 1],
      [{ destination_service_name: 'empty' }, 1],
      [{ ...UNKNOWN_DESTINATION, response_code: '301' }, 1],
    ] as const) {
      const name = 'istio_request_duration_milliseconds_bucket';
      assert.equal(one(samples, name, { ...labels, le: '250' }), 0, JSON.stringify(labels));
      assert.equal(one(samples, name, { ...labels, le: '+Inf' }), count, JSON.stringify(labels));
    }

    // Once upstream, a delayed request is counted by its cluster as any other; the abort drawn
    // with a delay never reached the router.
    assert.equal(
      clusterStat(
        samples,
        'envoy_cluster_upstream_rq_total',
        'outbound|8080||delay.default.svc.cluster.local',
      ),
      3,
    );
    assert.equal(
      clusterStat(
        samples,
        'envoy_cluster_upstream_rq_total',
        'outbound|8080||both.default.svc.cluster.local',
      ),
      0,
    );
    assert.equal(
      clusterStat(
        samples,
        'envoy_cluster_upstream_rq_total',
        'outbound|8080||refusing.default.svc.cluster.local',
      ),
      3,
    );
  });

  test('a caller that gives up during the delay: one record, code 0, DI,DC; nothing sent', async () => {
    const controller = new AbortController();
    const pending = request(`http://slow:${PORT}/s`, { dispatcher: allowAny, signal: controller.signal });
    setTimeout(() => controller.abort(), 50);
    await assert.rejects(pending);
    assert.equal(upstreams.slow!.received.length, 0);
    const samples = await scrape(allowAnyServer);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'slow' }), ['0 DI,DC http: 1']);
  });

  test('redirects: their status and -, every destination label unknown, no time', async () => {
    for (let i = 0; i < 2; i++) {
      const res = await request(`http://moved:${PORT}/old`, { dispatcher: allowAny });
      assert.equal(res.statusCode, 301);
      await res.body.dump();
    }
    const samples = await scrape(allowAnyServer);
    const labels = { ...UNKNOWN_DESTINATION, response_code: '301', response_flags: '-' };
    assert.equal(one(samples, 'istio_requests_total', labels), 2);
    assert.equal(one(samples, 'istio_request_duration_milliseconds_bucket', { ...labels, le: '0.5' }), 2);
    assert.ok(one(samples, 'istio_response_bytes_sum', labels) > 0, 'the status line and location header');
  });

  test('PassthroughCluster: the allow_any route and unknown ports, with the upstream’s status and flags', async () => {
    const outside = upstreams.outside!;
    const before = outside.received.length;
    // Another host on a port the mesh listens on: Istio's `allow_any` route.
    const viaRoute = await request(`http://localhost:${outside.port}/via-route`, { dispatcher: allowAny });
    assert.equal(viaRoute.statusCode, 200);
    const body = await viaRoute.body.text();
    // A port the mesh has no listener for.
    const unknownPort = await closedPort();
    await assert.rejects(request(`http://127.0.0.1:${unknownPort}/`, { dispatcher: allowAny }));
    assert.equal(outside.received.length, before + 1);
    const samples = await scrape(allowAnyServer);
    const passthrough = { ...UNKNOWN_DESTINATION, destination_service_name: 'PassthroughCluster' };
    assert.deepEqual(seriesOf(samples, passthrough), ['200 - http: 1', '503 UF http: 1']);
    const ok = { ...passthrough, response_code: '200' };
    assert.ok(one(samples, 'istio_response_bytes_sum', ok) > body.length, 'head and body');
    assert.ok(one(samples, 'istio_request_bytes_sum', ok) > 0);
    // Envoy's cluster stats of PassthroughCluster: both requests, one charged 2xx and one 5xx.
    assert.equal(clusterStat(samples, 'envoy_cluster_upstream_rq_total', 'PassthroughCluster'), 2);
    assert.equal(
      one(samples, 'envoy_cluster_upstream_rq', {
        cluster_name: 'PassthroughCluster',
        response_code_class: '2xx',
      }),
      1,
    );
  });

  test('PassthroughCluster: a connection closed under the request is UC, as the router flags it', async () => {
    // Accepts the connection, then closes it when the request arrives.
    const closer = createNetServer((socket) => socket.once('data', () => socket.destroy()));
    await new Promise<void>((resolve) => closer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (closer.address() as AddressInfo).port;
      await assert.rejects(request(`http://127.0.0.1:${port}/`, { dispatcher: allowAny }));
      const samples = await scrape(allowAnyServer);
      const passthrough = { ...UNKNOWN_DESTINATION, destination_service_name: 'PassthroughCluster' };
      assert.ok(
        seriesOf(samples, passthrough).includes('503 UC http: 1'),
        String(seriesOf(samples, passthrough)),
      );
    } finally {
      closer.close();
    }
  });

  test('REGISTRY_ONLY: block_all’s 502 is BlackHoleCluster, an unknown port is NR under unknown', async () => {
    const outside = upstreams.outside!;
    const before = outside.received.length;
    const res = await request(`http://localhost:${outside.port}/blocked`, { dispatcher: registryOnly });
    assert.equal(res.statusCode, 502);
    await res.body.dump();
    await assert.rejects(request(`http://127.0.0.1:${await closedPort()}/`, { dispatcher: registryOnly }), {
      code: 'DABBA_NO_ROUTE',
    });
    assert.equal(outside.received.length, before);
    const samples = await scrape(registryOnlyServer);
    assert.equal(
      one(samples, 'istio_requests_total', {
        ...UNKNOWN_DESTINATION,
        destination_service_name: 'BlackHoleCluster',
        response_code: '502',
        response_flags: '-',
      }),
      1,
    );
    assert.equal(one(samples, 'istio_requests_total', { ...UNKNOWN_DESTINATION, response_flags: 'NR' }), 1);
    assert.equal(pickSamples(samples, 'istio_requests_total', {}).length, 2);
  });

  test('mirrors: the primary is counted, the shadow copy is not (Envoy sends it outside the filter chain)', async () => {
    const target = upstreams.mirrored!;
    const before = target.received.length;
    const res = await request(`http://mirrored:${PORT}/m`, { dispatcher: allowAny });
    assert.equal(res.statusCode, 200);
    await res.body.dump();
    await waitFor(() => target.received.length === before + 2, 5000, 'the primary and its copy');
    // The copy's response is read and discarded after the primary's: let it end before scraping.
    await new Promise((r) => setTimeout(r, 50));
    const samples = await scrape(allowAnyServer);
    assert.deepEqual(seriesOf(samples, { destination_service_name: 'mirrored' }), ['200 - http: 1']);
    assert.equal(
      pickSamples(samples, 'istio_requests_total', { destination_service_name: 'shadow' }).length,
      0,
    );
    // The copy is an upstream request of the mirror cluster: Envoy's cluster stats count it.
    const shadowCluster = { cluster_name: `outbound|${PORT}||shadow.default.svc.cluster.local` };
    assert.equal(one(samples, 'envoy_cluster_upstream_rq_total', shadowCluster), 1);
    assert.equal(
      one(samples, 'envoy_cluster_upstream_rq', { ...shadowCluster, response_code_class: '2xx' }),
      1,
    );
  });
});
