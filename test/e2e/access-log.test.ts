/**
 * End to end, on real sockets: the `accessLog` option writes one line per logical request in
 * Istio's default text format (pilot/pkg/model/telemetry_logging.go, built on Envoy's default
 * format string) or Istio's JSON encoding, with Envoy's response flags: a success, a refused
 * upstream after Istio's default retries (UF,URX), a circuit-breaker overflow (UO), no route
 * (NR) and an injected delay with an abort (DI,FI). Each line is parsed back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { closedPort, slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

/** Istio's text format, field by field (quoted fields may hold spaces). */
const ISTIO_LINE =
  /^\[(\S+)\] "(\S+) (\S+) (\S+)" (\d+) (\S+) (\S+) (\S+) "([^"]*)" (\d+) (\d+) (\d+) (\S+) "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)$/;

interface TextLine {
  startTime: string;
  method: string;
  path: string;
  protocol: string;
  code: number;
  flags: string;
  details: string;
  bytesReceived: number;
  bytesSent: number;
  duration: number;
  upstreamServiceTime: string;
  userAgent: string;
  requestId: string;
  authority: string;
  upstreamHost: string;
  cluster: string;
  route: string;
}

function parseText(line: string): TextLine {
  const m = ISTIO_LINE.exec(line);
  assert.ok(m, `not Istio's format: ${line}`);
  return {
    startTime: m[1]!,
    method: m[2]!,
    path: m[3]!,
    protocol: m[4]!,
    code: Number(m[5]),
    flags: m[6]!,
    details: m[7]!,
    bytesReceived: Number(m[10]),
    bytesSent: Number(m[11]),
    duration: Number(m[12]),
    upstreamServiceTime: m[13]!,
    userAgent: m[15]!,
    requestId: m[16]!,
    authority: m[17]!,
    upstreamHost: m[18]!,
    cluster: m[19]!,
    route: m[24]!,
  };
}

describe('access logs', () => {
  let folder: MeshFolder;
  let reviews: Upstream;
  let slow: Upstream;
  const lines: string[] = [];
  const jsonLines: string[] = [];
  let text: Mesh;
  let json: Mesh;

  before(async () => {
    reviews = await startUpstream('reviews', (_req, res) => res.end('hello'));
    slow = await startUpstream('slow', slowHandler(300));
    const refused = await closedPort();
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      `${serviceYaml('reviews', 9080, [{ name: 'reviews-1', port: reviews.port, labels: {} }])}---
${serviceYaml('details', 9080, [{ name: 'details-1', port: refused, labels: {} }])}---
${serviceYaml('slow', 9080, [{ name: 'slow-1', port: slow.port, labels: {} }])}---
${serviceYaml('faulty', 9080, [{ name: 'faulty-1', port: reviews.port, labels: {} }])}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - name: reviews-route
      route: [{ destination: { host: reviews } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: slow }
spec:
  host: slow
  trafficPolicy: { connectionPool: { http: { http2MaxRequests: 1 } } }
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: faulty }
spec:
  hosts: [faulty]
  http:
    - route: [{ destination: { host: faulty } }]
      fault:
        delay: { fixedDelay: 20ms, percentage: { value: 100 } }
        abort: { httpStatus: 418, percentage: { value: 100 } }
`,
    );
    // REGISTRY_ONLY: an unknown host:port has no route (NR) instead of going to PassthroughCluster.
    const base = {
      config: istioFiles(folder.dir, { watch: false, mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' } }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'productpage' } },
    } as const;
    text = await createMesh({ ...base, accessLog: { stream: { write: (l: string) => lines.push(l) } } });
    json = await createMesh({
      ...base,
      accessLog: { format: 'json', stream: { write: (l: string) => jsonLines.push(l) } },
    });
  });

  after(async () => {
    await text?.close();
    await json?.close();
    await reviews?.close();
    await slow?.close();
    await folder?.remove();
  });

  async function send(m: Mesh, url: string, headers: Record<string, string> = {}): Promise<number | string> {
    try {
      const res = await request(url, { dispatcher: m, headers, method: 'POST', body: 'abc' });
      await res.body.text();
      return res.statusCode;
    } catch (err) {
      return (err as { code: string }).code;
    }
  }

  test('a success: every field of Istio text format', async () => {
    lines.length = 0;
    const before = Date.now();
    await send(text, 'http://reviews:9080/r?q=1', { 'user-agent': 'ua/1', 'x-request-id': 'rid-1' });
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('\n'));
    const l = parseText(lines[0]!.slice(0, -1));
    assert.ok(Math.abs(Date.parse(l.startTime) - before) < 5000);
    assert.match(l.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      { ...l, startTime: '', duration: 0, upstreamServiceTime: '' },
      {
        startTime: '',
        method: 'POST',
        path: '/r?q=1',
        protocol: 'HTTP/1.1',
        code: 200,
        flags: '-',
        details: 'via_upstream',
        bytesReceived: 3,
        bytesSent: 5,
        duration: 0,
        upstreamServiceTime: '',
        userAgent: 'ua/1',
        requestId: 'rid-1',
        authority: 'reviews:9080',
        upstreamHost: `127.0.0.1:${reviews.port}`,
        cluster: 'outbound|9080||reviews.default.svc.cluster.local',
        route: 'reviews-route',
      },
    );
    assert.match(l.upstreamServiceTime, /^\d+$/);
  });

  test('UF,URX after Istio default retries; NR; DI,FI; UO', async () => {
    lines.length = 0;
    assert.equal(await send(text, 'http://details:9080/d'), 'DABBA_UPSTREAM_CONNECT_FAILURE');
    assert.equal(await send(text, 'http://nowhere:9999/'), 'DABBA_NO_ROUTE');
    assert.equal(await send(text, 'http://faulty:9080/'), 418);
    const [a, b] = await Promise.all([send(text, 'http://slow:9080/'), send(text, 'http://slow:9080/')]);
    assert.deepEqual([a, b].sort(), [200, 'DABBA_OVERFLOW'].sort());
    await waitFor(() => lines.length === 5, 2000, 'five lines');
    const parsed = lines.map((x) => parseText(x.slice(0, -1)));
    const [uf, nr, fi, ...slowLines] = parsed;
    assert.deepEqual([uf!.code, uf!.flags, uf!.upstreamHost.startsWith('127.0.0.1:')], [503, 'UF,URX', true]);
    assert.equal(uf!.details, 'upstream_reset_before_response_started{connection_failure}');
    assert.deepEqual(
      [nr!.code, nr!.flags, nr!.details, nr!.cluster, nr!.upstreamHost],
      [404, 'NR', 'route_not_found', '-', '-'],
    );
    assert.deepEqual(
      [fi!.code, fi!.flags, fi!.details, fi!.bytesSent],
      [418, 'DI,FI', 'fault_filter_abort', 18],
    );
    assert.ok(fi!.duration >= 15, `the delay counts in the duration (${fi!.duration} ms)`);
    const uo = slowLines.find((x) => x.flags === 'UO');
    assert.ok(uo, slowLines.map((x) => x.flags).join(' '));
    assert.deepEqual(
      [uo.code, uo.details, uo.cluster],
      [503, 'overflow', 'outbound|9080||slow.default.svc.cluster.local'],
    );
  });

  test("JSON: Istio's keys, numbers as numbers, unset as null", async () => {
    jsonLines.length = 0;
    await send(json, 'http://reviews:9080/j', { 'x-request-id': 'rid-j' });
    assert.equal(await send(json, 'http://details:9080/d'), 'DABBA_UPSTREAM_CONNECT_FAILURE');
    assert.equal(jsonLines.length, 2);
    const [ok, uf] = jsonLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(Object.keys(ok!), [
      'start_time',
      'route_name',
      'method',
      'path',
      'protocol',
      'response_code',
      'response_flags',
      'response_code_details',
      'connection_termination_details',
      'bytes_received',
      'bytes_sent',
      'duration',
      'upstream_service_time',
      'x_forwarded_for',
      'user_agent',
      'request_id',
      'authority',
      'upstream_host',
      'upstream_cluster',
      'upstream_local_address',
      'downstream_local_address',
      'downstream_remote_address',
      'requested_server_name',
      'upstream_transport_failure_reason',
    ]);
    assert.equal(ok!.response_code, 200);
    assert.equal(ok!.bytes_sent, 5);
    assert.equal(ok!.request_id, 'rid-j');
    assert.equal(ok!.route_name, 'reviews-route');
    assert.equal(ok!.x_forwarded_for, null);
    assert.equal(typeof ok!.upstream_service_time, 'number');
    assert.equal(uf!.response_code, 503);
    assert.equal(uf!.response_flags, 'UF,URX');
    assert.equal(uf!.upstream_service_time, null);
  });

  test('a stream that throws does not fail the request; one process warning', async () => {
    const m = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      accessLog: {
        stream: {
          write: () => {
            throw new Error('disk full');
          },
        },
      },
    });
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      assert.equal(await send(m, 'http://reviews:9080/'), 200);
      assert.equal(await send(m, 'http://reviews:9080/'), 200);
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(warnings, ['dabba: access log write failed: disk full']);
    } finally {
      process.off('warning', onWarning);
      await m.close();
    }
  });

  test('options: an unknown operator is a configuration error at construction', async () => {
    await assert.rejects(
      createMesh({
        config: istioFiles(folder.dir, { watch: false }),
        logger: null,
        accessLog: { format: '%START_TIME% %NOPE%\n' },
      }),
      (err: { code: string; issues: { path: string; message: string }[] }) =>
        err.code === 'DABBA_CONFIG_INVALID' &&
        err.issues.some((i) => i.path === 'accessLog.format' && i.message.includes('%NOPE%')),
    );
    await assert.rejects(
      createMesh({
        config: istioFiles(folder.dir, { watch: false }),
        logger: null,
        tracing: { samplingPercent: 101, propagation: ['xray' as 'w3c'] },
      }),
      (err: { issues: { path: string }[] }) =>
        err.issues.map((i) => i.path).join() === 'tracing.samplingPercent,tracing.propagation[0]',
    );
  });
});
