/**
 * Throughput and latency: raw undici Pool vs the mesh (routed; routed with every resilience feature
 * configured and none firing; the no-VirtualService floor; and the routed service with telemetry:
 * Istio metrics, tracing at 1% and 100% sampling through an OpenTelemetry SDK, and tracing with no
 * SDK registered) against one upstream process. `raw-telemetry-headers` is raw undici sending the
 * headers the telemetry modes add (Istio's metadata exchange, W3C and B3 trace context,
 * x-request-id; captured from a real request): the cost of those bytes on the wire and in both
 * HTTP stacks, which an Envoy sidecar's upstream request carries too; `raw-metrics-headers` sends
 * only the two of them the metrics mode adds (the metadata exchange), its fair floor. Modes run
 * in interleaved rounds whose order rotates, so drift (thermal, page cache, JIT) lands on every
 * mode alike; mesh/raw ratios are paired per round. After the rounds: the bytes each mode
 * allocates per request (allocations.ts), and raw and mesh-routed latency at a fixed rate,
 * interleaved (fixed-rate.ts).
 */
import type { Mesh, MeshOptions } from '@dabba/client';
import { createMesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Dispatcher, Pool, request } from 'undici';
import { createMeshFolder, type MeshFolder } from '../support/mesh-folder.ts';
import { type AllocationResult, allocationsPerRequest } from './allocations.ts';
import type { Pinning } from './cpu-pinning.ts';
import { type FixedRateResult, runFixedRate } from './fixed-rate.ts';
import { type LoadTarget, type RoundResult, runRound } from './load-round.ts';
import { RESILIENT, RESILIENT_HOST } from './resilience-config.ts';
import { median, type Spread, spread } from './stats.ts';
import {
  FLOOR_HOST,
  floorServiceYaml,
  REQUEST_PATH,
  ROUTED_HOST,
  routedServiceYaml,
  SERVICE_PORT,
} from './throughput-config.ts';
import { type BenchTracing, createBenchTracing } from './tracing-provider.ts';
import { startUpstreamProcess } from './upstream-process.ts';

export const MODES = [
  'raw',
  'raw-telemetry-headers',
  'raw-metrics-headers',
  'mesh-routed',
  'mesh-resilient',
  'mesh-floor',
  'mesh-metrics',
  'mesh-telemetry-1pct',
  'mesh-telemetry-100pct',
  'mesh-tracing-no-sdk',
] as const;
export type ModeName = (typeof MODES)[number];
export type MeshModeName = Exclude<ModeName, 'raw' | 'raw-telemetry-headers' | 'raw-metrics-headers'>;

export interface ThroughputOptions {
  readonly rounds: number;
  readonly roundMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
  /** Modes to run (all by default); one mode alone is for profiling. */
  readonly modes?: readonly ModeName[];
  /** Requests per mode for the allocation measurement; 0 skips it. */
  readonly allocationRequests: number;
  /** Duration of the fixed-rate latency run (1,000 requests/s to each of raw and the mesh); 0 skips it. */
  readonly fixedRateMs: number;
}

export interface ModeSummary {
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRequest: number;
  readonly errors: number;
  readonly rounds: readonly RoundResult[];
}

export interface ThroughputResult {
  readonly options: ThroughputOptions;
  readonly upstreamPorts: number;
  readonly modes: Record<ModeName, ModeSummary>;
  /** mesh rps / raw rps, paired per round. */
  readonly ratio: Record<MeshModeName, Spread>;
  /** mesh CPU µs/request minus raw CPU µs/request, paired per round. */
  readonly addedCpuUs: Record<MeshModeName, Spread>;
  /** mode CPU µs/request minus mesh-routed CPU µs/request: what the mode's features add. */
  readonly overRoutedCpuUs: Record<MeshModeName, Spread>;
  /** raw-telemetry-headers rps / raw rps, paired per round: what the headers alone cost. */
  readonly headersRatio: Spread;
  /** raw-telemetry-headers CPU µs/request minus raw, paired per round. */
  readonly headersAddedCpuUs: Spread;
  /** The headers raw-telemetry-headers sends (names), and their size on the wire. */
  readonly telemetryHeaders: { readonly names: readonly string[]; readonly bytes: number };
  /** mode rps / raw-telemetry-headers rps, paired per round: the telemetry modes net of the headers. */
  readonly overHeadersRatio: Record<MeshModeName, Spread>;
  /** Spans the SDK modes ended (sampled requests), to show sampling did what it says. */
  readonly spansEnded: { readonly onePercent: number; readonly hundredPercent: number };
  /** mesh-metrics rps / raw-metrics-headers rps, paired per round: metrics net of its headers. */
  readonly metricsOverHeadersRatio: Spread;
  /** Bytes allocated per request, by mode (modes that ran). */
  readonly allocations: Partial<Record<ModeName, AllocationResult>>;
  /** raw undici and mesh-routed at a fixed rate, interleaved; undefined when skipped. */
  readonly fixedRate: FixedRateResult | undefined;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function meshFor(folder: MeshFolder, yaml: string, extra: Partial<MeshOptions> = {}): Promise<Mesh> {
  await folder.write('mesh.yaml', yaml);
  return createMesh({
    workload: { namespace: 'default', labels: { app: 'bench-client', version: 'v1' } },
    config: istioFiles(folder.dir, { watch: false }),
    logger: null,
    ...extra,
  });
}

/** What a routed request through `mesh` carries beyond what raw undici sends, read off the upstream. */
async function capturedTelemetryHeaders(mesh: Mesh): Promise<Record<string, string>> {
  const res = await request(`http://${ROUTED_HOST}:${SERVICE_PORT}/__headers`, { dispatcher: mesh });
  const seen = (await res.body.json()) as Record<string, string>;
  const added: Record<string, string> = {};
  for (const [name, value] of Object.entries(seen)) if (!RAW_HEADERS.has(name)) added[name] = value;
  return added;
}
const RAW_HEADERS = new Set(['host', 'connection']);

/** Raw undici with fixed extra headers: an object spread, as an application adding them would. */
class HeaderAddingDispatcher extends Dispatcher {
  readonly #inner: Pool;
  readonly #headers: Record<string, string>;
  constructor(inner: Pool, headers: Record<string, string>) {
    super();
    this.#inner = inner;
    this.#headers = headers;
  }
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    const headers = { ...(options.headers as Record<string, string> | undefined), ...this.#headers };
    return this.#inner.dispatch({ ...options, headers }, handler);
  }
  override close(): Promise<void> {
    return this.#inner.close();
  }
}

const NAN: Spread = { median: Number.NaN, min: Number.NaN, max: Number.NaN };

export async function runThroughput(pinning: Pinning, options: ThroughputOptions): Promise<ThroughputResult> {
  const upstream = await startUpstreamProcess(pinning, 4);
  const folders: MeshFolder[] = [];
  const folder = async () => {
    const f = await createMeshFolder();
    folders.push(f);
    return f;
  };
  const ports = upstream.ports;
  const routedYaml = routedServiceYaml(ports);
  const onePercent: BenchTracing = createBenchTracing();
  const hundredPercent: BenchTracing = createBenchTracing();
  const raw = new Pool(`http://127.0.0.1:${ports[0]}`);
  const meshes: Record<MeshModeName, Mesh> = {
    'mesh-routed': await meshFor(await folder(), routedYaml),
    'mesh-resilient': await meshFor(await folder(), routedServiceYaml(ports, RESILIENT_HOST, RESILIENT)),
    'mesh-floor': await meshFor(await folder(), floorServiceYaml(ports[0]!)),
    'mesh-metrics': await meshFor(await folder(), routedYaml, { metrics: {} }),
    'mesh-telemetry-1pct': await meshFor(await folder(), routedYaml, {
      metrics: {},
      tracing: { samplingPercent: 1, tracerProvider: onePercent.provider },
    }),
    'mesh-telemetry-100pct': await meshFor(await folder(), routedYaml, {
      metrics: {},
      tracing: { samplingPercent: 100, tracerProvider: hundredPercent.provider },
    }),
    // No provider given and none registered globally: the OpenTelemetry API's no-op.
    'mesh-tracing-no-sdk': await meshFor(await folder(), routedYaml, { tracing: { samplingPercent: 100 } }),
  };
  const telemetryHeaders = await capturedTelemetryHeaders(meshes['mesh-telemetry-1pct']);
  const rawWithHeaders = new HeaderAddingDispatcher(
    new Pool(`http://127.0.0.1:${ports[0]}`),
    telemetryHeaders,
  );
  const metricsHeaders = await capturedTelemetryHeaders(meshes['mesh-metrics']);
  const rawWithMetricsHeaders = new HeaderAddingDispatcher(
    new Pool(`http://127.0.0.1:${ports[0]}`),
    metricsHeaders,
  );
  const hostOf: Record<MeshModeName, string> = {
    'mesh-routed': ROUTED_HOST,
    'mesh-resilient': RESILIENT_HOST,
    'mesh-floor': FLOOR_HOST,
    'mesh-metrics': ROUTED_HOST,
    'mesh-telemetry-1pct': ROUTED_HOST,
    'mesh-telemetry-100pct': ROUTED_HOST,
    'mesh-tracing-no-sdk': ROUTED_HOST,
  };
  const targets = Object.fromEntries([
    ['raw', { url: `http://127.0.0.1:${ports[0]}${REQUEST_PATH}`, dispatcher: raw }],
    [
      'raw-telemetry-headers',
      { url: `http://127.0.0.1:${ports[0]}${REQUEST_PATH}`, dispatcher: rawWithHeaders },
    ],
    [
      'raw-metrics-headers',
      { url: `http://127.0.0.1:${ports[0]}${REQUEST_PATH}`, dispatcher: rawWithMetricsHeaders },
    ],
    ...(Object.entries(meshes) as [MeshModeName, Mesh][]).map(([mode, mesh]) => [
      mode,
      { url: `http://${hostOf[mode]}:${SERVICE_PORT}${REQUEST_PATH}`, dispatcher: mesh },
    ]),
  ]) as Record<ModeName, LoadTarget>;
  try {
    const modes = options.modes ?? MODES;
    for (const mode of modes) await runRound(targets[mode], options.warmupMs, options.concurrency);
    await Promise.all([onePercent.flush(), hundredPercent.flush()]);
    onePercent.reset();
    hundredPercent.reset();
    const results = Object.fromEntries(MODES.map((m) => [m, [] as RoundResult[]])) as Record<
      ModeName,
      RoundResult[]
    >;
    for (let r = 0; r < options.rounds; r++) {
      // Rotate the order each round so no mode always runs first after a GC or always last.
      for (let k = 0; k < modes.length; k++) {
        const mode = modes[(r + k) % modes.length]!;
        gc?.();
        results[mode].push(await runRound(targets[mode], options.roundMs, options.concurrency));
      }
    }
    const summary = (rounds: RoundResult[]): ModeSummary => ({
      rps: median(rounds.map((x) => x.rps)),
      p50Ms: median(rounds.map((x) => x.p50Ms)),
      p99Ms: median(rounds.map((x) => x.p99Ms)),
      cpuUsPerRequest: median(rounds.map((x) => x.cpuUsPerRequest)),
      errors: rounds.reduce((n, x) => n + x.errors, 0),
      rounds,
    });
    const paired = (
      mode: ModeName,
      f: (m: RoundResult, base: RoundResult) => number,
      base: ModeName = 'raw',
    ): Spread =>
      results[mode].length === results[base].length && results[mode].length > 0
        ? spread(results[mode].map((m, i) => f(m, results[base][i]!)))
        : NAN;
    const allocations: Partial<Record<ModeName, AllocationResult>> = {};
    if (options.allocationRequests > 0) {
      for (const mode of modes) {
        gc?.();
        const t = targets[mode];
        allocations[mode] = await allocationsPerRequest(
          t.url,
          t.dispatcher,
          options.allocationRequests,
          options.concurrency,
        );
      }
    }
    let fixedRate: FixedRateResult | undefined;
    if (options.fixedRateMs > 0 && modes.includes('raw') && modes.includes('mesh-routed')) {
      gc?.();
      // A short warm-up at the same rate, then the measured run.
      await runFixedRate(targets.raw, targets['mesh-routed'], 1000, Math.min(1000, options.fixedRateMs));
      fixedRate = await runFixedRate(targets.raw, targets['mesh-routed'], 1000, options.fixedRateMs);
    }
    const meshModes = MODES.filter((m): m is MeshModeName => !m.startsWith('raw'));
    const per = (f: (mode: MeshModeName) => Spread) =>
      Object.fromEntries(meshModes.map((m) => [m, f(m)])) as Record<MeshModeName, Spread>;
    await Promise.all([onePercent.flush(), hundredPercent.flush()]);
    return {
      options,
      upstreamPorts: ports.length,
      modes: Object.fromEntries(MODES.map((m) => [m, summary(results[m])])) as Record<ModeName, ModeSummary>,
      ratio: per((mode) => paired(mode, (m, r) => m.rps / r.rps)),
      addedCpuUs: per((mode) => paired(mode, (m, r) => m.cpuUsPerRequest - r.cpuUsPerRequest)),
      overRoutedCpuUs: per((mode) =>
        mode === 'mesh-routed'
          ? NAN
          : paired(mode, (m, r) => m.cpuUsPerRequest - r.cpuUsPerRequest, 'mesh-routed'),
      ),
      headersRatio: paired('raw-telemetry-headers', (m, r) => m.rps / r.rps),
      headersAddedCpuUs: paired('raw-telemetry-headers', (m, r) => m.cpuUsPerRequest - r.cpuUsPerRequest),
      telemetryHeaders: {
        names: Object.keys(telemetryHeaders),
        bytes: Object.entries(telemetryHeaders).reduce((n, [k, v]) => n + k.length + v.length + 4, 0),
      },
      overHeadersRatio: per((mode) => paired(mode, (m, r) => m.rps / r.rps, 'raw-telemetry-headers')),
      spansEnded: { onePercent: onePercent.ended(), hundredPercent: hundredPercent.ended() },
      metricsOverHeadersRatio: paired('mesh-metrics', (m, r) => m.rps / r.rps, 'raw-metrics-headers'),
      allocations,
      fixedRate,
    };
  } finally {
    await Promise.allSettled([
      raw.close(),
      rawWithHeaders.close(),
      rawWithMetricsHeaders.close(),
      ...Object.values(meshes).map((m) => m.close()),
    ]);
    await Promise.allSettled([onePercent.shutdown(), hundredPercent.shutdown()]);
    await Promise.allSettled(folders.map((f) => f.remove()));
    await upstream.stop();
  }
}
