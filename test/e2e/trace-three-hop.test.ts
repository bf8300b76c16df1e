/**
 * End to end, on real sockets: one trace across three hops, as Istio's sidecars would draw it.
 * A caller sends trace context to Dabba service A (`mesh.inbound`), whose handler calls service B
 * through A's mesh; B is a Dabba service too. Recorded with OpenTelemetry's Node SDK and its
 * in-memory exporter: SERVER A -> CLIENT A -> SERVER B, one trace id, the caller's span as the
 * remote parent, whatever format the caller spoke (W3C Trace Context, B3 multi, B3 single), and
 * the caller's sampling decision honoured on every hop.
 */
import assert from 'node:assert/strict';
import {
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { context, propagation, SpanKind, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** The caller: a plain HTTP client (no mesh, no SDK) sending the given trace headers. */
function call(port: number, headers: Record<string, string>): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/a?q=1', headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}

const parentId = (s: ReadableSpan): string | undefined => s.parentSpanContext?.spanId;

describe('a trace across caller -> Dabba A -> Dabba B', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let folder: MeshFolder;
  let serverA: Server;
  let serverB: Server;
  let portA: number;
  let meshA: Mesh;
  let meshB: Mesh;
  let receivedByB: IncomingHttpHeaders | undefined;
  let handlerA: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();
  let handlerB: (req: IncomingMessage, res: ServerResponse) => void = (_q, r) => r.end();

  before(async () => {
    // The SDK as an application registers it: global provider, AsyncLocalStorage context, W3C propagator.
    provider.register();
    serverA = createServer((req, res) => handlerA(req, res));
    serverB = createServer((req, res) => handlerB(req, res));
    portA = await listen(serverA);
    const portB = await listen(serverB);
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      `${serviceYaml('svca', 9080, [{ name: 'svca-1', port: portA, labels: { version: 'v1' } }])}---
${serviceYaml('svcb', 9080, [{ name: 'svcb-1', port: portB, labels: { version: 'v1' } }])}`,
    );
    const base = { config: istioFiles(folder.dir, { watch: false }), logger: null } as const;
    // Sampling percentage 0: only the caller's decision can sample a trace.
    meshA = await createMesh({
      ...base,
      workload: { namespace: 'default', labels: { app: 'svca', version: 'v1' } },
      tracing: { samplingPercent: 0 },
      metrics: {},
    });
    meshB = await createMesh({
      ...base,
      workload: { namespace: 'default', labels: { app: 'svcb', version: 'v1' } },
      tracing: { samplingPercent: 0 },
    });
    handlerA = meshA.inbound(
      async (_req, res) => {
        const r = await request('http://svcb:9080/b', { dispatcher: meshA });
        res.end(`A+${await r.body.text()}`);
      },
      { port: portA },
    );
    handlerB = meshB.inbound(
      (req, res) => {
        receivedByB = req.headers;
        res.end('B');
      },
      { port: portB },
    );
  });

  after(async () => {
    for (const s of [serverA, serverB]) {
      s?.closeAllConnections();
      await new Promise<void>((resolve) => s?.close(() => resolve()));
    }
    await meshA?.close();
    await meshB?.close();
    await folder?.remove();
    await provider.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  async function threeSpans(): Promise<{
    serverA: ReadableSpan;
    clientA: ReadableSpan;
    serverB: ReadableSpan;
  }> {
    await waitFor(() => exporter.getFinishedSpans().length >= 3, 5000, 'three finished spans');
    const spans = exporter.getFinishedSpans();
    exporter.reset();
    assert.equal(spans.length, 3, spans.map((s) => `${SpanKind[s.kind]} ${s.name}`).join(', '));
    const servers = spans.filter((s) => s.kind === SpanKind.SERVER);
    const clients = spans.filter((s) => s.kind === SpanKind.CLIENT);
    assert.equal(servers.length, 2);
    assert.equal(clients.length, 1);
    const serverA = servers.find((s) => s.attributes['istio.canonical_service'] === 'svca')!;
    const serverB = servers.find((s) => s.attributes['istio.canonical_service'] === 'svcb')!;
    assert.ok(serverA && serverB);
    return { serverA, clientA: clients[0]!, serverB };
  }

  function assertChain(
    spans: { serverA: ReadableSpan; clientA: ReadableSpan; serverB: ReadableSpan },
    traceId: string,
    callerSpan: string,
  ): void {
    const { serverA, clientA, serverB } = spans;
    for (const s of [serverA, clientA, serverB]) assert.equal(s.spanContext().traceId, traceId, s.name);
    assert.equal(parentId(serverA), callerSpan, 'SERVER A is a child of the caller span');
    assert.equal(serverA.parentSpanContext?.isRemote, true);
    assert.equal(parentId(clientA), serverA.spanContext().spanId, 'CLIENT A is a child of SERVER A');
    assert.equal(parentId(serverB), clientA.spanContext().spanId, 'SERVER B is a child of CLIENT A');
    // B received the trace context A's CLIENT span wrote, and its span was started from it.
    assert.ok(receivedByB?.traceparent?.includes(clientA.spanContext().spanId));

    // Istio's inbound operation name, and OTel HTTP server attributes.
    assert.equal(serverA.name, 'svca.default.svc.cluster.local:9080/*');
    assert.equal(serverB.name, 'svcb.default.svc.cluster.local:9080/*');
    assert.equal(serverA.attributes['http.request.method'], 'GET');
    assert.equal(serverA.attributes['url.path'], '/a');
    assert.equal(serverA.attributes['url.query'], 'q=1');
    assert.equal(serverA.attributes['url.scheme'], 'http');
    assert.equal(serverA.attributes['server.address'], '127.0.0.1');
    assert.equal(serverA.attributes['server.port'], portA);
    assert.equal(serverA.attributes['client.address'], '127.0.0.1');
    assert.equal(serverA.attributes['network.protocol.version'], '1.1');
    assert.equal(serverA.attributes['http.response.status_code'], 200);
    assert.equal(serverA.attributes.component, 'proxy');
    assert.equal(serverA.attributes['istio.namespace'], 'default');
    assert.equal(serverB.attributes['url.path'], '/b');
    assert.equal(serverB.attributes['http.response.status_code'], 200);
    // Envoy's x-request-id travels with the trace: B's span carries the id A generated.
    assert.equal(serverB.attributes['guid:x-request-id'], receivedByB?.['x-request-id']);
  }

  test('W3C caller (traceparent, sampled)', async () => {
    exporter.reset();
    const body = await call(portA, { traceparent: `00-${TRACE}-${CALLER_SPAN}-01` });
    assert.equal(body, 'A+B');
    assertChain(await threeSpans(), TRACE, CALLER_SPAN);
  });

  test('B3 multi-header caller (x-b3-traceid/spanid/sampled)', async () => {
    exporter.reset();
    const body = await call(portA, {
      'x-b3-traceid': '80f198ee56343ba864fe8b2a57d3eff7',
      'x-b3-spanid': 'e457b5a2e4d86bd1',
      'x-b3-parentspanid': '05e3ac9a4f6e3b90',
      'x-b3-sampled': '1',
    });
    assert.equal(body, 'A+B');
    assertChain(await threeSpans(), '80f198ee56343ba864fe8b2a57d3eff7', 'e457b5a2e4d86bd1');
  });

  test('B3 single-header caller (b3: trace-span-1)', async () => {
    exporter.reset();
    const body = await call(portA, { b3: '80f198ee56343ba864fe8b2a57d3eff8-e457b5a2e4d86bd2-1' });
    assert.equal(body, 'A+B');
    assertChain(await threeSpans(), '80f198ee56343ba864fe8b2a57d3eff8', 'e457b5a2e4d86bd2');
  });

  test('a caller that did not sample: no span on any hop, the decision and trace id passed on', async () => {
    exporter.reset();
    const body = await call(portA, { traceparent: `00-${TRACE}-${CALLER_SPAN}-00` });
    assert.equal(body, 'A+B');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.match(String(receivedByB?.traceparent), new RegExp(`^00-${TRACE}-[0-9a-f]{16}-00$`));
  });

  test('no trace context and sampling 0%: nothing recorded, a new unsampled trace reaches B', async () => {
    exporter.reset();
    assert.equal(await call(portA, {}), 'A+B');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(exporter.getFinishedSpans().length, 0);
    assert.match(String(receivedByB?.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    assert.ok(!receivedByB?.traceparent?.includes(TRACE));
  });
});
