/**
 * Micro-benchmark of the per-request telemetry (tracing option): the whole life of one request's
 * observer (decision, routed, header injection into a copy, end) for a request not sampled, a
 * sampled one with no SDK registered (the API's no-op provider), a sampled one recorded by a
 * BasicTracerProvider with no processor, and one carrying its caller's `traceparent` and
 * `x-request-id` (the header-reading path; sampled by the caller, no SDK). Run alone:
 * `node --conditions=dabba-source test/bench/tracing-bench.ts`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Workload } from '@dabba/discovery';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { consumeSink, nsPerOp } from './time-loop.ts';

const CLIENT_SRC = path.join(import.meta.dirname, '..', '..', 'packages', 'client', 'src');
const load = async <T>(relative: string): Promise<T> =>
  (await import(pathToFileURL(path.join(CLIENT_SRC, relative)).href)) as T;

interface Observed {
  routed(cluster: string, route: string | undefined, http2: boolean): void;
  inject(headers: Record<string, string | string[]>): void;
  attemptStarted(host: unknown, n: number): void;
  responseStarted(status: number, headers: Record<string, string>): void;
  requestEnded(status: number, flags: string, bytes: number, err: undefined): void;
}
type TelemetryCtor = new (
  tracing: unknown,
  accessLog: unknown,
  workload: Workload,
  random: () => number,
) => { begin(request: unknown, target: unknown, options: unknown): Observed };
type RequestCtor = new (
  m: string,
  s: string,
  a: string,
  p: string,
  h: unknown,
) => { toRecord(): Record<string, string> };

const { MeshTelemetry } = await load<{ MeshTelemetry: TelemetryCtor }>('telemetry/mesh-telemetry.ts');
const { IncomingRequest } = await load<{ IncomingRequest: RequestCtor }>('dispatch/incoming-request.ts');
const { resolveTracingOptions } = await load<{
  resolveTracingOptions: (v: unknown, s: string, i: unknown[]) => unknown;
}>('telemetry/tracing/tracing-options.ts');

const workload = { namespace: 'default', labels: { app: 'bench' } } as unknown as Workload;
const target = {
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
};
const options: { method: string; path: string; origin: string; headers: Record<string, string> } = {
  method: 'GET',
  path: '/reviews/1',
  origin: 'http://reviews:9080',
  headers: { 'user-agent': 'bench' },
};
const responseHeaders = { 'content-length': '2' };
const cluster = 'outbound|9080|v1|reviews.default.svc.cluster.local';

function life(telemetry: InstanceType<TelemetryCtor>, opts: typeof options = options): number {
  const request = new IncomingRequest('GET', 'http', 'reviews:9080', '/reviews/1', opts.headers);
  const o = telemetry.begin(request, target, opts);
  o.routed(cluster, 'r', false);
  const record = request.toRecord();
  o.inject(record);
  o.attemptStarted(host, 1);
  o.responseStarted(200, responseHeaders);
  o.requestEnded(200, '-', 2, undefined);
  return Object.keys(record).length;
}

function baseline(opts: typeof options = options): number {
  // What an untraced request that needs a header copy pays anyway.
  const request = new IncomingRequest('GET', 'http', 'reviews:9080', '/reviews/1', opts.headers);
  return Object.keys(request.toRecord()).length;
}

const loop = { iterations: 200_000, runs: 7 };
const tracing = (v: object) => resolveTracingOptions(v, 'bench', []);
const unsampled = new MeshTelemetry(tracing({ samplingPercent: 0 }), undefined, workload, Math.random);
const noSdk = new MeshTelemetry(tracing({ samplingPercent: 100 }), undefined, workload, Math.random);
const rows: [string, number][] = [
  ['header copy only (baseline)', nsPerOp(() => baseline(), loop)],
  ['not sampled (0%)', nsPerOp(() => life(unsampled), loop)],
  ['sampled, no SDK (100%, no-op API)', nsPerOp(() => life(noSdk), loop)],
];
const provider = new BasicTracerProvider();
const recorded = new MeshTelemetry(
  tracing({ samplingPercent: 100, tracerProvider: provider }),
  undefined,
  workload,
  Math.random,
);
rows.push([
  'sampled, recorded (BasicTracerProvider)',
  nsPerOp(() => life(recorded), { iterations: 50_000, runs: 5 }),
]);
const propagated = {
  ...options,
  headers: {
    'user-agent': 'bench',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    'x-request-id': '3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
  },
};
rows.push(['3 headers: copy only (baseline)', nsPerOp(() => baseline(propagated), loop)]);
rows.push(['3 headers: caller traceparent, x-request-id', nsPerOp(() => life(unsampled, propagated), loop)]);
for (const [name, ns] of rows) console.log(`${name.padEnd(42)} ${ns.toFixed(0).padStart(6)} ns/request`);
console.log(consumeSink() > 0 ? '' : 'sink empty');
