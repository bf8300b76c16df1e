/**
 * The exported text of Istio's request metrics as a Prometheus scrape reads it, against the names,
 * labels and buckets of istio-metric-names.test.ts; counts and sums of known observations; the
 * registry contract of createIstioMetrics.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, mock, test } from 'node:test';
import { type OpenMetricsContentType, Registry, register } from 'prom-client';
import { ConfigError } from '../../src/errors.ts';
import {
  ENVOY_DEFAULT_HISTOGRAM_BUCKETS,
  ISTIO_LABEL_NAMES,
  ISTIO_REQUESTS_TOTAL,
} from '../../src/telemetry/istio-metric-names.ts';
import { createIstioMetrics, type IstioRequestMetrics } from '../../src/telemetry/istio-request-metrics.ts';
import { reviewsPeer } from './peer-labels.ts';
import { type Exposition, label, parseExposition, select } from './prom-text.ts';

const HISTOGRAMS = ['istio_request_duration_milliseconds', 'istio_request_bytes', 'istio_response_bytes'];
const LE = [...ENVOY_DEFAULT_HISTOGRAM_BUCKETS.map(String), '+Inf'];

const scrape = async (registry: Registry): Promise<Exposition> => parseExposition(await registry.metrics());

const setup = (reporter: 'source' | 'destination' = 'source') => {
  const registry = new Registry();
  const metrics = createIstioMetrics({ registry, reporter });
  return { registry, metrics };
};

/** Cumulative bucket counts of one histogram series, in `le` order. */
const buckets = (exp: Exposition, name: string, where: Record<string, string>) =>
  select(exp, `${name}_bucket`, where).map((s) => [label(s, 'le'), s.value]);

describe('exported text', () => {
  test('names, HELP and TYPE of the four request metrics', async () => {
    const { registry, metrics } = setup();
    metrics.record(metrics.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    const exp = await scrape(registry);
    assert.deepEqual(
      [...exp.type],
      [
        ['istio_requests_total', 'counter'],
        ['istio_request_duration_milliseconds', 'histogram'],
        ['istio_request_bytes', 'histogram'],
        ['istio_response_bytes', 'histogram'],
      ],
    );
    for (const name of exp.type.keys()) assert.ok((exp.help.get(name) ?? '').length > 0, name);
    assert.deepEqual(
      new Set(exp.samples.map((s) => s.name)),
      new Set([
        'istio_requests_total',
        ...HISTOGRAMS.flatMap((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`]),
      ]),
    );
  });

  test('every sample carries all 25 Istio labels in order, buckets add le first', async () => {
    const { registry, metrics } = setup();
    metrics.record(metrics.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    const exp = await scrape(registry);
    for (const s of exp.samples) {
      const names = s.labels.map(([k]) => k);
      // le first, as prom-client's own Histogram writes it; Prometheus does not order labels.
      const expected = s.name.endsWith('_bucket') ? ['le', ...ISTIO_LABEL_NAMES] : [...ISTIO_LABEL_NAMES];
      assert.deepEqual(names, expected, s.name);
    }
    const [count] = select(exp, ISTIO_REQUESTS_TOTAL);
    assert.deepEqual(Object.fromEntries(count!.labels), {
      reporter: 'source',
      ...reviewsPeer(),
      response_code: '200',
      response_flags: '-',
      grpc_response_status: '',
    });
  });

  test("bucket boundaries are Envoy's defaults plus +Inf, for each histogram", async () => {
    const { registry, metrics } = setup();
    metrics.record(metrics.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    const exp = await scrape(registry);
    for (const h of HISTOGRAMS) {
      assert.deepEqual(
        select(exp, `${h}_bucket`).map((s) => label(s, 'le')),
        LE,
        h,
      );
    }
  });

  test('getMetricsAsJSON(): histogram samples with merged labels, as prom-client returns its own', async () => {
    const { registry, metrics } = setup();
    metrics.record(metrics.forPeer(reviewsPeer()).get(200), 7, 1, 1);
    const json = await registry.getMetricsAsJSON();
    const duration = json.find((m) => m.name === 'istio_request_duration_milliseconds')!;
    const le10 = duration.values.find((v) => v.labels.le === '10')!;
    assert.equal(le10.value, 1);
    assert.equal(le10.labels.destination_service, 'reviews.bookinfo.svc.cluster.local');
    assert.equal(le10.labels.response_code, '200');
  });

  test('reporter="destination" for an inbound recorder', async () => {
    const { registry, metrics } = setup('destination');
    metrics.record(metrics.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    const exp = await scrape(registry);
    assert.ok(exp.samples.length > 0);
    for (const s of exp.samples) assert.equal(label(s, 'reporter'), 'destination');
  });

  test('a label set never recorded into exports nothing, as Envoy creates a stat on first use', async () => {
    const { registry, metrics } = setup();
    metrics.forPeer(reviewsPeer()).get(200);
    assert.equal(metrics.labelSetCount, 1);
    assert.deepEqual((await scrape(registry)).samples, []);
  });
});

describe('histogram counts and sums', () => {
  test('durations: whole milliseconds (istio_stats.cc), inclusive upper bounds', async () => {
    const { registry, metrics } = setup();
    const set = metrics.forPeer(reviewsPeer()).get(200);
    // Truncated: 0.4 -> 0, 0.9 -> 0, 1.99 -> 1, 5.5 -> 5, 3_600_000.7 -> 3_600_000.
    const durations = [0.4, 0.9, 1, 1.99, 5.5, 10, 11, 999, 3_600_000.7, 3_600_001];
    for (const d of durations) metrics.record(set, d, 0, 0);
    const exp = await scrape(registry);
    const where = { response_code: '200' };
    assert.deepEqual(buckets(exp, 'istio_request_duration_milliseconds', where), [
      ['0.5', 2],
      ['1', 4],
      ['5', 5],
      ['10', 6],
      ['25', 7],
      ['50', 7],
      ['100', 7],
      ['250', 7],
      ['500', 7],
      ['1000', 8],
      ['2500', 8],
      ['5000', 8],
      ['10000', 8],
      ['30000', 8],
      ['60000', 8],
      ['300000', 8],
      ['600000', 8],
      ['1800000', 8],
      ['3600000', 9],
      ['+Inf', 10],
    ]);
    assert.equal(
      select(exp, 'istio_request_duration_milliseconds_sum', where)[0]!.value,
      0 + 0 + 1 + 1 + 5 + 10 + 11 + 999 + 3_600_000 + 3_600_001,
    );
    assert.equal(select(exp, 'istio_request_duration_milliseconds_count', where)[0]!.value, 10);
  });

  test('sizes: bytes as given, request and response apart', async () => {
    const { registry, metrics } = setup();
    const set = metrics.forPeer(reviewsPeer()).get(200);
    metrics.record(set, 0, 0, 5_000_000);
    metrics.record(set, 0, 100, 101);
    metrics.record(set, 0, 2500, 2501);
    const exp = await scrape(registry);
    const le = (name: string, bound: string) => select(exp, `${name}_bucket`, { le: bound })[0]!.value;
    assert.deepEqual(
      ['0.5', '100', '250', '2500', '5000', '3600000', '+Inf'].map((b) => le('istio_request_bytes', b)),
      [1, 2, 2, 3, 3, 3, 3],
    );
    assert.deepEqual(
      ['0.5', '100', '250', '2500', '5000', '3600000', '+Inf'].map((b) => le('istio_response_bytes', b)),
      [0, 0, 1, 1, 2, 2, 3],
    );
    assert.equal(select(exp, 'istio_request_bytes_sum')[0]!.value, 2600);
    assert.equal(select(exp, 'istio_response_bytes_sum')[0]!.value, 5_002_602);
    assert.equal(select(exp, 'istio_response_bytes_count')[0]!.value, 3);
  });

  test('each label set keeps its own series', async () => {
    const { registry, metrics } = setup();
    const peer = metrics.forPeer(reviewsPeer());
    metrics.record(peer.get(200), 3, 10, 10);
    metrics.record(peer.get(200), 3, 10, 10);
    metrics.record(peer.get(503, 'UH'), 0, 10, 0);
    metrics.record(metrics.forPeer(reviewsPeer('v2')).get(200), 3, 10, 10);
    const exp = await scrape(registry);
    const count = (where: Record<string, string>) =>
      select(exp, ISTIO_REQUESTS_TOTAL, where).map((s) => s.value);
    assert.deepEqual(count({ destination_version: 'v1', response_code: '200', response_flags: '-' }), [2]);
    assert.deepEqual(count({ destination_version: 'v1', response_code: '503', response_flags: 'UH' }), [1]);
    assert.deepEqual(count({ destination_version: 'v2', response_code: '200' }), [1]);
    assert.equal(select(exp, 'istio_request_duration_milliseconds_count').length, 3);
  });
});

describe('counters', () => {
  test('istio_requests_total only grows between scrapes, resetMetrics() included', async () => {
    const { registry, metrics } = setup();
    const set = metrics.forPeer(reviewsPeer()).get(200);
    const total = async () => select(await scrape(registry), ISTIO_REQUESTS_TOTAL)[0]?.value ?? 0;
    const seen: number[] = [];
    for (const n of [1, 0, 3, 5]) {
      for (let i = 0; i < n; i++) metrics.record(set, 1, 1, 1);
      seen.push(await total());
    }
    registry.resetMetrics();
    seen.push(await total());
    assert.deepEqual(seen, [1, 1, 4, 9, 9]);
  });
});

describe('recording stays off prom-client', () => {
  test('record() calls nothing registered in the registry', (t) => {
    const { registry, metrics } = setup();
    const set = metrics.forPeer(reviewsPeer()).get(200);
    // Every function a registered metric exposes (Counter: inc, get, reset, labels, ...;
    // the histograms: get, reset) is replaced by a spy for the duration of the loop.
    const spies = registry.getMetricsAsArray().flatMap((m) => {
      const target = m as unknown as Record<string, () => unknown>;
      const names = new Set<string>();
      for (
        let o: object | null = target;
        o !== null && o !== Object.prototype;
        o = Object.getPrototypeOf(o)
      ) {
        for (const k of Object.getOwnPropertyNames(o))
          if (k !== 'constructor' && typeof target[k] === 'function') names.add(k);
      }
      return [...names].map((k) => t.mock.method(target, k));
    });
    assert.ok(spies.length > 8);
    for (let i = 0; i < 1000; i++) metrics.record(set, i, i, i);
    assert.equal(
      spies.reduce((n, s) => n + s.mock.callCount(), 0),
      0,
    );
    assert.equal(set.requests, 1000);
  });
});

describe('createIstioMetrics and registries', () => {
  let created: IstioRequestMetrics | undefined;
  afterEach(() => {
    created?.unregister();
    created = undefined;
    mock.restoreAll();
  });

  test('a user registry gets the metrics and the default register is not touched', async () => {
    const before = register.getMetricsAsArray().length;
    const { registry, metrics } = setup();
    metrics.record(metrics.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    assert.deepEqual(
      registry.getMetricsAsArray().map((m) => m.name),
      ['istio_requests_total', ...HISTOGRAMS],
    );
    assert.equal(register.getMetricsAsArray().length, before);
    assert.doesNotMatch(await register.metrics(), /istio_/);
  });

  test("without a registry, prom-client's default register", async () => {
    created = createIstioMetrics({ reporter: 'source' });
    created.record(created.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    assert.equal(created.registry, register);
    assert.equal(select(await scrape(register), ISTIO_REQUESTS_TOTAL).length, 1);
    created.unregister();
    assert.doesNotMatch(await register.metrics(), /istio_/);
  });

  test('a registry that already has the metrics: DABBA_CONFIG_INVALID, nothing registered twice', () => {
    const { registry } = setup();
    assert.throws(
      () => createIstioMetrics({ registry, reporter: 'source' }),
      (e: unknown) => e instanceof ConfigError && e.code === 'DABBA_CONFIG_INVALID' && e.issues.length === 4,
    );
  });

  test('an unknown reporter: DABBA_CONFIG_INVALID naming the field', () => {
    assert.throws(
      () => createIstioMetrics({ registry: new Registry(), reporter: 'gateway' as 'source' }),
      (e: unknown) => e instanceof ConfigError && e.issues[0]?.path === 'reporter',
    );
  });

  test('an OpenMetrics registry works too', async () => {
    const registry = new Registry<OpenMetricsContentType>();
    registry.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    const metrics = createIstioMetrics({ registry, reporter: 'source' });
    metrics.record(metrics.forPeer(reviewsPeer()).get(200), 1, 1, 1);
    const text = await registry.metrics();
    assert.match(text, /^# TYPE istio_request_duration_milliseconds histogram$/m);
    assert.match(text, /^istio_requests_total\{reporter="source",.*\} 1$/m);
  });
});

describe('label sets', () => {
  test('interned: the same labels give the same handle', () => {
    const { metrics } = setup();
    const a = metrics.forPeer(reviewsPeer());
    const b = metrics.forPeer(reviewsPeer());
    assert.equal(a.get(200), b.get(200));
    assert.equal(
      a.get(200),
      metrics.labelSet({
        ...reviewsPeer(),
        response_code: '200',
        response_flags: '-',
        grpc_response_status: '',
      }),
    );
    assert.notEqual(a.get(200), a.get(201));
    assert.notEqual(a.get(503), a.get(503, 'UH'));
    assert.equal(a.get(503, 'UH'), a.get(503, 'UH'));
    assert.notEqual(a.get(200, '-', '0'), a.get(200));
    assert.equal(metrics.labelSetCount, 5);
  });

  test('closed sets are enforced, every problem reported at once', () => {
    const { metrics } = setup();
    assert.throws(
      () =>
        metrics.labelSet({
          ...reviewsPeer('v1', {
            request_protocol: 'h3',
            connection_security_policy: 'tls',
            destination_app: '',
          }),
          response_code: '42',
          response_flags: 'UH,XX',
          grpc_response_status: '17',
        }),
      (e: unknown) =>
        e instanceof ConfigError &&
        e.code === 'DABBA_CONFIG_INVALID' &&
        e.issues.map((i) => i.path).join() ===
          'destination_app,request_protocol,connection_security_policy,response_code,response_flags,grpc_response_status',
    );
    assert.equal(metrics.labelSetCount, 0);
  });

  test('accepted closed-set values: status 0 and 100-999, Envoy flag lists, gRPC 0-16', () => {
    const { metrics } = setup();
    const peer = metrics.forPeer(reviewsPeer('v1', { request_protocol: 'grpc' }));
    for (const code of [0, 100, 200, 503, 999]) peer.get(code);
    peer.get(0, 'UF,URX');
    peer.get(200, '-', '16');
    assert.throws(() => peer.get(99), ConfigError);
    assert.throws(() => peer.get(1000), ConfigError);
    assert.throws(() => peer.get(503, 'UH,UH'), ConfigError);
  });
});
