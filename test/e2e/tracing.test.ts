/**
 * End to end, on real sockets: the `tracing` option. One CLIENT span per logical request with
 * OTel HTTP client attributes and Envoy/Istio tags, retries as span events, the parent's
 * sampling decision honoured (Envoy's tracers honour the W3C sampled flag and x-b3-sampled),
 * and trace context written into the request the upstream receives, in exactly the formats
 * configured (W3C Trace Context, B3 multi), with Envoy's generated x-request-id.
 */
import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createMesh, type Mesh, type MeshOptions } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  serviceYaml,
  versionSubsetsYaml,
} from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const PARENT = 'b7ad6b7169203331';
/** A UUIDv4 as Envoy forwards it: character 14 is `9` once the request is sampled (pack_trace_reason). */
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-[49][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('tracing', () => {
  let folder: MeshFolder;
  let reviews: Upstream;
  let ratings: Upstream;
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const contextManager = new AsyncLocalStorageContextManager();
  const meshes: Mesh[] = [];

  async function mesh(tracing: MeshOptions['tracing']): Promise<Mesh> {
    const m = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'productpage', version: 'v1' } },
      ...(tracing === undefined ? {} : { tracing }),
    });
    meshes.push(m);
    return m;
  }

  async function get(m: Mesh, url: string, headers: Record<string, string> = {}): Promise<number> {
    const res = await request(url, { dispatcher: m, headers });
    await res.body.text();
    return res.statusCode;
  }

  function last(u: Upstream): IncomingHttpHeaders {
    return u.received.at(-1)!.headers;
  }

  function spans(): ReadableSpan[] {
    const out = exporter.getFinishedSpans();
    exporter.reset();
    return out;
  }

  before(async () => {
    context.setGlobalContextManager(contextManager.enable());
    reviews = await startUpstream('reviews-v1', (_req, res) => res.end('ok'));
    ratings = await startUpstream('ratings', (_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      `${serviceYaml('reviews', 9080, [{ name: 'reviews-1', port: reviews.port, labels: { version: 'v1' } }])}---
${serviceYaml('ratings', 9080, [{ name: 'ratings-1', port: ratings.port, labels: { version: 'v1' } }])}---
${versionSubsetsYaml('reviews', { v1: 'v1' })}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - name: reviews-v1
      route: [{ destination: { host: reviews, subset: v1 } }]
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
  });

  after(async () => {
    for (const m of meshes) await m.close();
    await reviews?.close();
    await ratings?.close();
    await folder?.remove();
    context.disable();
    await provider.shutdown();
  });

  test('a sampled request: one CLIENT span named as Istio names egress spans, its ids in traceparent and B3, x-request-id generated', async () => {
    const m = await mesh({ samplingPercent: 100, tracerProvider: provider });
    spans();
    assert.equal(await get(m, 'http://reviews:9080/reviews/1?x=1', { 'user-agent': 'test-agent' }), 200);
    const [span, ...rest] = spans();
    assert.equal(rest.length, 0);
    assert.ok(span);
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.name, 'reviews.default.svc.cluster.local:9080/*');
    assert.equal(span.parentSpanContext, undefined, 'a root span');
    const a = span.attributes;
    assert.equal(a['http.request.method'], 'GET');
    assert.equal(a['url.full'], 'http://reviews:9080/reviews/1?x=1');
    assert.equal(a['server.address'], 'reviews');
    assert.equal(a['server.port'], 9080);
    assert.equal(a['http.response.status_code'], 200);
    assert.equal(a['network.peer.address'], '127.0.0.1');
    assert.equal(a['network.peer.port'], reviews.port);
    assert.equal(a.upstream_cluster, 'outbound|9080|v1|reviews.default.svc.cluster.local');
    assert.equal(a['dabba.subset'], 'v1');
    assert.equal(a['dabba.route.name'], 'reviews-v1');
    assert.equal(a.response_flags, '-');
    assert.equal(a.component, 'proxy');
    assert.equal(a['istio.canonical_service'], 'productpage');
    assert.equal(a['user_agent.original'], 'test-agent');
    assert.equal(span.status.code, SpanStatusCode.UNSET);

    const h = last(reviews);
    const { traceId, spanId } = span.spanContext();
    assert.equal(h.traceparent, `00-${traceId}-${spanId}-01`);
    assert.equal(h['x-b3-traceid'], traceId);
    assert.equal(h['x-b3-spanid'], spanId);
    assert.equal(h['x-b3-sampled'], '1');
    assert.equal(h['x-b3-parentspanid'], undefined);
    assert.match(String(h['x-request-id']), UUID_V4);
    assert.equal(String(h['x-request-id'])[14], '9', 'the sampling reason packed into the id');
    assert.equal(a['guid:x-request-id'], h['x-request-id']);
  });

  test("the caller's x-request-id is kept, with Envoy's trace reason packed in when the rate samples it", async () => {
    const m = await mesh({ samplingPercent: 100, tracerProvider: provider });
    spans();
    await get(m, 'http://reviews:9080/', { 'x-request-id': 'f0f0f0f0-0000-4000-8000-000000000000' });
    assert.equal(last(reviews)['x-request-id'], 'f0f0f0f0-0000-9000-8000-000000000000');
    assert.equal(spans()[0]?.attributes['guid:x-request-id'], 'f0f0f0f0-0000-9000-8000-000000000000');
    // Not a UUID, no hex prefix: Envoy cannot draw from it, so the rate does not sample it.
    await get(m, 'http://reviews:9080/', { 'x-request-id': 'my-id' });
    assert.equal(last(reviews)['x-request-id'], 'my-id');
    assert.equal(spans().length, 0);
    assert.match(String(last(reviews).traceparent), /-00$/);
  });

  test('x-request-id decides the rate as Envoy does: first 8 hex digits mod 10000; an id marked 9 is traced at 0%', async () => {
    const half = await mesh({ samplingPercent: 50, tracerProvider: provider });
    spans();
    // 0x00001388 = 5000: not below 5000 (50%); 0x00001387 = 4999: below.
    await get(half, 'http://reviews:9080/', { 'x-request-id': '00001388-0000-4000-8000-000000000000' });
    assert.equal(spans().length, 0);
    assert.equal(last(reviews)['x-request-id'], '00001388-0000-4000-8000-000000000000');
    await get(half, 'http://reviews:9080/', { 'x-request-id': '00001387-0000-4000-8000-000000000000' });
    assert.equal(spans().length, 1);
    assert.equal(last(reviews)['x-request-id'], '00001387-0000-9000-8000-000000000000');
    const none = await mesh({ samplingPercent: 0, tracerProvider: provider });
    await get(none, 'http://reviews:9080/', { 'x-request-id': '00001388-0000-9000-8000-000000000000' });
    assert.equal(spans().length, 1, 'a proxy before this one decided to trace');
  });

  test('retries are span events; a forwarded 503 after retries is an error span with URX', async () => {
    const m = await mesh({ samplingPercent: 100, tracerProvider: provider });
    spans();
    assert.equal(await get(m, 'http://ratings:9080/'), 503);
    const [span] = spans();
    assert.ok(span);
    const events = span.events.filter((e) => e.name === 'dabba.attempt');
    assert.equal(events.length, 2, 'two retried attempts, then the forwarded third');
    for (const [i, e] of events.entries()) {
      assert.equal(e.attributes?.['dabba.attempt'], i + 1);
      assert.equal(e.attributes?.['http.response.status_code'], 503);
      assert.equal(e.attributes?.['dabba.retried'], true);
    }
    assert.equal(span.attributes['http.request.resend_count'], 2);
    assert.equal(span.attributes.response_flags, 'URX');
    assert.equal(span.attributes['error.type'], '503');
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    // Every attempt carried the same span's context.
    const sent = ratings.received.slice(-3).map((r) => r.headers.traceparent);
    assert.deepEqual(sent, Array(3).fill(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`));
  });

  test('a parent that is not sampled: no span, and the not-sampled flag goes upstream in the same trace', async () => {
    const m = await mesh({ samplingPercent: 100, tracerProvider: provider });
    spans();
    await get(m, 'http://reviews:9080/', { traceparent: `00-${TRACE}-${PARENT}-00` });
    assert.equal(spans().length, 0);
    const h = last(reviews);
    const [version, traceId, spanId, flags] = String(h.traceparent).split('-');
    assert.deepEqual([version, traceId, flags], ['00', TRACE, '00']);
    assert.notEqual(spanId, PARENT, "Dabba's own span id, as Envoy's span");
    assert.equal(h['x-b3-sampled'], '0');
    assert.equal(h['x-b3-parentspanid'], PARENT);
  });

  test("a sampled B3 parent wins over 0% sampling; the span is the parent's child", async () => {
    const m = await mesh({ samplingPercent: 0, tracerProvider: provider });
    spans();
    await get(m, 'http://reviews:9080/', {
      'x-b3-traceid': '463ac35c9f6413ad',
      'x-b3-spanid': PARENT,
      'x-b3-sampled': '1',
    });
    const [span] = spans();
    assert.ok(span);
    assert.equal(span.spanContext().traceId, '0000000000000000463ac35c9f6413ad');
    assert.equal(span.parentSpanContext?.spanId, PARENT);
    assert.equal(last(reviews)['x-b3-spanid'], span.spanContext().spanId);
  });

  test('0% sampling with no parent: no span, ids propagated with the not-sampled flag', async () => {
    const m = await mesh({ samplingPercent: 0, tracerProvider: provider });
    spans();
    await get(m, 'http://reviews:9080/');
    assert.equal(spans().length, 0);
    assert.match(String(last(reviews).traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    assert.equal(last(reviews)['x-b3-sampled'], '0');
  });

  test('the active OTel span (an inbound SERVER span) is the parent; active baggage is propagated', async () => {
    const m = await mesh({ samplingPercent: 0, tracerProvider: provider });
    const tracer = provider.getTracer('inbound');
    const server = tracer.startSpan('inbound', { kind: SpanKind.SERVER });
    const ctx = propagation.setBaggage(
      trace.setSpan(context.active(), server),
      propagation.createBaggage({ tenant: { value: 'a b' } }),
    );
    await context.with(ctx, () => get(m, 'http://reviews:9080/'));
    server.end();
    const client = spans().find((s) => s.kind === SpanKind.CLIENT);
    assert.ok(client, 'sampled because the active parent is');
    assert.equal(client.parentSpanContext?.spanId, server.spanContext().spanId);
    assert.equal(client.spanContext().traceId, server.spanContext().traceId);
    assert.equal(last(reviews).baggage, 'tenant=a%20b');
  });

  test('B3-only and W3C-only configurations write exactly their headers', async () => {
    const b3 = await mesh({
      samplingPercent: 100,
      tracerProvider: provider,
      propagation: ['b3multi'],
      requestId: false,
    });
    await get(b3, 'http://reviews:9080/');
    const hb = last(reviews);
    // Every header the upstream got: undici's own two and the three B3 headers, nothing else.
    assert.deepEqual(Object.keys(hb).sort(), [
      'connection',
      'host',
      'x-b3-sampled',
      'x-b3-spanid',
      'x-b3-traceid',
    ]);
    const w3c = await mesh({
      samplingPercent: 100,
      tracerProvider: provider,
      propagation: ['w3c'],
      requestId: false,
    });
    await get(w3c, 'http://reviews:9080/', {
      tracestate: 'rojo=00f067aa0ba902b7',
      traceparent: `00-${TRACE}-${PARENT}-01`,
    });
    const hw = last(reviews);
    assert.deepEqual(Object.keys(hw).sort(), ['connection', 'host', 'traceparent', 'tracestate']);
    assert.equal(hw.tracestate, 'rojo=00f067aa0ba902b7');
    const single = await mesh({ samplingPercent: 100, tracerProvider: provider, propagation: ['b3'] });
    await get(single, 'http://reviews:9080/');
    const hs = last(reviews);
    assert.deepEqual(Object.keys(hs).sort(), ['b3', 'connection', 'host', 'x-request-id']);
    assert.match(String(hs.b3), /^[0-9a-f]{32}-[0-9a-f]{16}-1$/);
    spans();
  });

  test('PassthroughCluster (an address outside the registry, ALLOW_ANY): traced and injected too', async () => {
    const m = await mesh({ samplingPercent: 100, tracerProvider: provider });
    spans();
    assert.equal(await get(m, `http://127.0.0.1:${reviews.port}/direct`), 200);
    const [span] = spans();
    assert.ok(span);
    assert.equal(span.attributes.upstream_cluster, 'PassthroughCluster');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.name, `127.0.0.1:${reviews.port}/*`);
    assert.equal(
      last(reviews).traceparent,
      `00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`,
    );
  });

  test('with no SDK (the API no-op provider) a sampled request still propagates its decision and ids', async () => {
    const m = await mesh({ samplingPercent: 100 });
    spans();
    await get(m, 'http://reviews:9080/');
    assert.equal(spans().length, 0);
    assert.match(String(last(reviews).traceparent), /^00-[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-01$/);
  });

  test('tracing and access logs off: no per-request observer is ever created', async () => {
    // The module the mesh uses, reached by path (the package exports only its public API).
    const url = pathToFileURL(
      path.join(
        import.meta.dirname,
        '..',
        '..',
        'packages',
        'client',
        'src',
        'telemetry',
        'mesh-telemetry.ts',
      ),
    ).href;
    const { MeshTelemetry } = (await import(url)) as {
      MeshTelemetry: { prototype: { begin: () => unknown } };
    };
    const begin = MeshTelemetry.prototype.begin;
    let calls = 0;
    MeshTelemetry.prototype.begin = function (this: unknown, ...args: unknown[]) {
      calls++;
      return (begin as (...a: unknown[]) => unknown).apply(this, args);
    };
    try {
      const off = await mesh(undefined);
      for (let i = 0; i < 20; i++) await get(off, 'http://reviews:9080/');
      assert.equal(calls, 0, 'n = 20 requests with both options off');
      const on = await mesh({ samplingPercent: 0, tracerProvider: provider });
      for (let i = 0; i < 20; i++) await get(on, 'http://reviews:9080/');
      assert.equal(calls, 20, 'one observer per request with tracing on');
    } finally {
      MeshTelemetry.prototype.begin = begin;
    }
  });

  test('tracing off: no span and no header beyond what the caller sent', async () => {
    const m = await mesh(undefined);
    spans();
    await get(m, 'http://reviews:9080/', { 'x-app': '1' });
    assert.equal(spans().length, 0);
    assert.deepEqual(Object.keys(last(reviews)).sort(), ['connection', 'host', 'x-app']);
  });
});
