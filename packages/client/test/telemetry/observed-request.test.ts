/**
 * The outbound observer's cheap paths keep Envoy's behaviour: a request with no tracing header is
 * not searched for one; a generated x-request-id carries the mark Envoy would pack (`9` sampled,
 * `b` client forced, `a` service forced); with no SDK behind the global provider no span is
 * started, and an SDK registered later records the next sampled request with every tag.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { Workload } from '@dabba/discovery';
import {
  type Attributes,
  type AttributeValue,
  type Context,
  type Span,
  type SpanContext,
  type SpanOptions,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';
import { IncomingRequest, type RawHeaders } from '../../src/dispatch/incoming-request.ts';
import type { RequestTarget } from '../../src/dispatch/request-target.ts';
import type { Host } from '../../src/lb/host.ts';
import { MeshTelemetry } from '../../src/telemetry/mesh-telemetry.ts';
import { randomSpanId } from '../../src/telemetry/propagation/hex-ids.ts';
import { resolveTracingOptions, type TracingOptions } from '../../src/telemetry/tracing/tracing-options.ts';

const workload = { namespace: 'default', labels: { app: 'unit' } } as unknown as Workload;
const target: RequestTarget = {
  authority: 'reviews:9080',
  hostname: 'reviews',
  port: 9080,
  scheme: 'http',
  origin: 'http://reviews:9080',
};
const host = {
  key: '10.0.0.1:9080',
  address: '10.0.0.1',
  port: 9080,
  locality: { region: '', zone: '', subZone: '' },
} as unknown as Host;
const CLUSTER = 'outbound|9080|v1|reviews.default.svc.cluster.local';
const TRACEPARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

function telemetry(options: TracingOptions): MeshTelemetry {
  return new MeshTelemetry(resolveTracingOptions(options, 'tracing', []), undefined, workload, Math.random);
}

/** One request's whole life; returns the headers sent upstream and the header names looked up. */
function life(
  t: MeshTelemetry,
  headers: Record<string, string>,
): { sent: Record<string, string | string[]>; looked: string[] } {
  const request = new IncomingRequest('GET', 'http', 'reviews:9080', '/r', headers as RawHeaders);
  const looked: string[] = [];
  const get = request.get.bind(request);
  request.get = (name: string) => {
    looked.push(name);
    return get(name);
  };
  const o = t.begin(request, target, { method: 'GET', path: '/r', origin: target.origin, headers });
  o.routed(CLUSTER, 'default', false);
  const sent: Record<string, string | string[]> = { ...headers };
  o.inject(sent);
  o.attemptStarted(host, 1);
  o.responseStarted(200, {});
  o.requestEnded(200, '-', 2, undefined);
  return { sent, looked };
}

/** A minimal SDK: every span records, with a fresh span id under its parent's trace. */
class RecordingProvider implements TracerProvider {
  readonly spans: {
    name: string;
    options: SpanOptions;
    attributes: Attributes;
    context: SpanContext;
    ended: boolean;
    endTime?: number | undefined;
  }[] = [];
  getTracer(): Tracer {
    const spans = this.spans;
    const startSpan = (name: string, options: SpanOptions = {}, ctx?: Context): Span => {
      const parent = ctx === undefined ? undefined : trace.getSpanContext(ctx);
      const record = {
        name,
        options,
        attributes: { ...options.attributes },
        context: {
          traceId: parent?.traceId ?? '0af7651916cd43dd8448eb211c80319d',
          spanId: randomSpanId(),
          traceFlags: 1,
        },
        ended: false,
        endTime: undefined as number | undefined,
      };
      spans.push(record);
      const span = {
        spanContext: () => record.context,
        isRecording: () => true,
        setAttribute: (k: string, v: AttributeValue) => {
          record.attributes[k] = v;
          return span;
        },
        setAttributes: (a: Attributes) => {
          Object.assign(record.attributes, a);
          return span;
        },
        addEvent: () => span,
        setStatus: () => span,
        end: (endTime?: number) => {
          record.ended = true;
          record.endTime = endTime;
        },
      } as unknown as Span;
      return span;
    };
    return { startSpan } as unknown as Tracer;
  }
}

afterEach(() => trace.disable());

describe('ObservedRequest', () => {
  it('a request carrying no tracing header is never searched for one (not sampled and sampled)', () => {
    for (const samplingPercent of [0, 100]) {
      const { sent, looked } = life(telemetry({ samplingPercent }), { 'user-agent': 'unit', accept: '*/*' });
      assert.deepEqual(looked, [], `${samplingPercent}%`);
      assert.match(String(sent['x-request-id']), /^[0-9a-f-]{36}$/);
      assert.equal(String(sent.traceparent).slice(-2), samplingPercent === 0 ? '00' : '01');
    }
  });

  it('a request carrying trace context is read: the caller is the parent', () => {
    const { sent, looked } = life(telemetry({ samplingPercent: 0 }), { TraceParent: TRACEPARENT });
    assert.ok(looked.includes('traceparent'));
    // The caller's decision (sampled) wins over 0%; same trace, new span id.
    assert.match(String(sent.traceparent), /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    assert.equal(sent['x-b3-sampled'], '1');
  });

  it("a generated x-request-id carries Envoy's mark: 9 sampled, 4 not, b client forced, a service forced", () => {
    const at = (samplingPercent: number, headers: Record<string, string>) =>
      String(life(telemetry({ samplingPercent }), headers).sent['x-request-id'])[14];
    for (let i = 0; i < 50; i++) {
      assert.equal(at(100, {}), '9');
      assert.equal(at(0, {}), '4');
      // The forced reason replaces the sampled mark (Envoy checks it first on a fresh id).
      assert.equal(at(100, { 'x-client-trace-id': 'c' }), 'b');
      assert.equal(at(0, { 'x-client-trace-id': 'c', 'x-envoy-force-trace': '1' }), 'b');
      assert.equal(at(0, { 'X-Envoy-Force-Trace': '1' }), 'a');
    }
    const forced = life(telemetry({ samplingPercent: 0 }), { 'x-envoy-force-trace': '1' }).sent;
    assert.equal(String(forced.traceparent).slice(-2), '01');
  });

  it("a caller's x-request-id keeps Envoy's semantics: marked when sampled by its first 8 hex digits", () => {
    const id = '00002710-aaaa-4bbb-8ccc-dddddddddddd'; // 0x2710 = 10000 -> 0 mod 10000
    assert.equal(
      life(telemetry({ samplingPercent: 0.01 }), { 'x-request-id': id }).sent['x-request-id'],
      '00002710-aaaa-9bbb-8ccc-dddddddddddd',
    );
    const kept = '0000270f-aaaa-4bbb-8ccc-dddddddddddd'; // 9999
    assert.equal(
      life(telemetry({ samplingPercent: 99.99 }), { 'x-request-id': kept }).sent['x-request-id'],
      kept,
    );
  });

  it('no SDK behind the global provider: a sampled request starts no span and still propagates', () => {
    const t = telemetry({ samplingPercent: 100 });
    let started = 0;
    const tracer = t.tracer as { startSpan: (...a: unknown[]) => unknown };
    const startSpan = tracer.startSpan.bind(tracer);
    tracer.startSpan = (...a: unknown[]) => {
      started++;
      return startSpan(...a);
    };
    assert.equal(t.mayRecord, false);
    const { sent } = life(t, {});
    assert.equal(started, 0);
    assert.match(String(sent.traceparent), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('an SDK registered after the mesh was created records the next sampled request, with every tag', () => {
    const t = telemetry({ samplingPercent: 100 });
    const provider = new RecordingProvider();
    // A request that began before the registration and is routed after it.
    const request = new IncomingRequest('GET', 'http', 'reviews:9080', '/r', {});
    const early = t.begin(request, target, { method: 'GET', path: '/r', origin: target.origin, headers: {} });
    assert.equal(early.startTime, 0, 'no clock read while nothing can record');
    assert.ok(trace.setGlobalTracerProvider(provider));
    assert.equal(t.mayRecord, true);
    const before = performance.now();
    early.routed(CLUSTER, 'default', false);
    early.requestEnded(200, '-', 0, undefined);
    assert.equal(provider.spans.length, 1);
    assert.ok(Number(provider.spans[0]!.options.startTime) >= before, 'starts now, not at time 0');

    const { sent } = life(t, { 'user-agent': 'unit' });
    assert.equal(provider.spans.length, 2);
    const span = provider.spans[1]!;
    assert.equal(span.ended, true);
    // Start and end on one clock, performance.now(): the SDK keeps sub-millisecond durations.
    const start = Number(span.options.startTime);
    assert.ok(
      start > 0 && span.endTime !== undefined && span.endTime >= start && span.endTime <= performance.now(),
    );
    assert.equal(span.name, 'reviews.default.svc.cluster.local:9080/*');
    // The sampling inputs OTel's HTTP conventions ask for are given at creation.
    assert.deepEqual(span.options.attributes, {
      'http.request.method': 'GET',
      'url.full': 'http://reviews:9080/r',
      'server.address': 'reviews',
      'server.port': 9080,
    });
    assert.deepEqual(
      {
        component: span.attributes.component,
        ns: span.attributes['istio.namespace'],
        guid: span.attributes['guid:x-request-id'],
        ua: span.attributes['user_agent.original'],
        cluster: span.attributes.upstream_cluster,
        subset: span.attributes['dabba.subset'],
        route: span.attributes['dabba.route.name'],
        status: span.attributes['http.response.status_code'],
      },
      {
        component: 'proxy',
        ns: 'default',
        guid: sent['x-request-id'],
        ua: 'unit',
        cluster: CLUSTER,
        subset: 'v1',
        route: 'default',
        status: 200,
      },
    );
    // The span's own ids travel upstream.
    assert.equal(sent.traceparent, `00-${span.context.traceId}-${span.context.spanId}-01`);
  });
});
