/**
 * `npm run bench [-- --quick] [-- --only=throughput,failure,micro,scale] [-- --soak]`: throughput
 * and latency of the mesh against raw undici, the cost of the failure path (retries, overflow,
 * ejection), micro-benchmarks of the per-request policies, and config scale. `--soak` adds a
 * million-request heap soak (minutes; not for CI); `--soak --only=soak` runs it alone.
 * Prints a table with each target and writes bench-results/latest.json.
 *
 * A benchmark, not a test: it fails only when something breaks, never on a missed target.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runConfigScale, type ScaleResult } from './config-scale.ts';
import { pinClient } from './cpu-pinning.ts';
import { type DecisionBenchResult, runDecisionBench } from './decision-bench.ts';
import { type FailureResult, runFailurePath } from './failure-path.ts';
import { ENDPOINT_COUNT, type LbBenchRow, runLbBench } from './lb-bench.ts';
import { fmt, formatTable, type ReportRow, row } from './report.ts';
import { type RouteBenchResult, runRouteBench } from './route-bench.ts';
import { runSoak, type SoakResult } from './soak.ts';
import type { Spread } from './stats.ts';
import {
  type MeshModeName,
  MODES,
  type ModeName,
  runThroughput,
  type ThroughputResult,
} from './throughput.ts';
import { consumeSink, type LoopOptions, nsPerOp } from './time-loop.ts';

const SECTIONS = ['throughput', 'failure', 'micro', 'scale', 'soak'] as const;
/** Run unless --only says otherwise; the soak runs only when asked for. */
const DEFAULT_SECTIONS: readonly Section[] = ['throughput', 'failure', 'micro', 'scale'];
type Section = (typeof SECTIONS)[number];

const TARGETS = {
  throughputRatio: 0.95,
  addedCpuUs: 1,
  resilientThroughputRatio: 0.92,
  resilientAddedCpuUs: 1.5,
  /** Against raw undici sending the same headers (the fair floor: the headers are the job). */
  metricsOverHeadersRatio: 0.9,
  onePercentOverHeadersRatio: 0.85,
  fullTracingOverHeadersRatio: 0.7,
  /** At 1,000 requests/s, the p99 latency the routed mesh adds to raw undici. */
  fixedRateAddedP99Ms: 0.1,
  soakGrowthBytes: 2 * 1048576,
  routeNs: 100,
  lbNs: 50,
  translateCompileMs: 200,
  bytesPerEndpoint: 1024,
  eventLoopBlockMs: 20,
} as const;

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    // Throughput modes to run, e.g. `--modes=mesh-floor` under --cpu-prof; all by default.
    modes: { type: 'string' },
    soak: { type: 'boolean', default: false },
  },
});
const quick = args.quick ?? false;
const only = new Set((args.only?.split(',') ?? DEFAULT_SECTIONS) as Section[]);
if (args.soak) only.add('soak');
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}"`);

const modes = args.modes?.split(',') as ModeName[] | undefined;
for (const m of modes ?? []) if (!MODES.includes(m)) throw new Error(`--modes: unknown mode "${m}"`);

const settings = quick
  ? {
      throughput: {
        rounds: 3,
        roundMs: 1000,
        warmupMs: 500,
        concurrency: 64,
        allocationRequests: 3000,
        fixedRateMs: 3000,
      },
      failure: { rounds: 2, roundMs: 1000, warmupMs: 300, concurrency: 64 },
      loop: { iterations: 1_000_000, runs: 5 },
      scale: { services: 1000, runs: 1 },
    }
  : {
      throughput: {
        rounds: 10,
        roundMs: 3000,
        warmupMs: 3000,
        concurrency: 64,
        allocationRequests: 20000,
        fixedRateMs: 20000,
      },
      failure: { rounds: 6, roundMs: 2000, warmupMs: 1000, concurrency: 64 },
      loop: { iterations: 2_000_000, runs: 7 },
      scale: { services: 1000, runs: 5 },
    };

// The same in quick and full runs: the figure is only meaningful at this size.
const soakSettings = {
  totalRequests: 1_000_000,
  blockRequests: 100_000,
  concurrency: 64,
  maxGrowthBytes: TARGETS.soakGrowthBytes,
};

if ((globalThis as { gc?: unknown }).gc === undefined)
  process.emitWarning('run with --expose-gc: heap figures and between-round GC are skipped');

const pinning = ['throughput', 'failure', 'soak'].some((x) => only.has(x as Section))
  ? pinClient()
  : { clientCore: undefined, serverCore: undefined, note: 'n/a' };
const started = Date.now();
const log = (msg: string) =>
  process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);

let throughput: ThroughputResult | undefined;
let route: RouteBenchResult | undefined;
let lb: LbBenchRow[] | undefined;
let decision: DecisionBenchResult | undefined;
let harnessFloorNs: number | undefined;
let scale: ScaleResult | undefined;
let failure: FailureResult | undefined;
let soak: SoakResult | undefined;

if (only.has('micro')) {
  const loop: LoopOptions = settings.loop;
  log('micro: harness floor, route selection, LB picks, request decision');
  harnessFloorNs = nsPerOp((i) => i, loop);
  route = await runRouteBench(loop);
  lb = await runLbBench(loop);
  decision = await runDecisionBench(loop);
}
if (only.has('scale')) {
  log(`scale: ${settings.scale.services} services`);
  scale = await runConfigScale(settings.scale);
}
if (only.has('throughput')) {
  const t = settings.throughput;
  log(
    `throughput: ${t.rounds} rounds x ${t.roundMs} ms per mode, ${t.concurrency} in flight (${pinning.note})`,
  );
  throughput = await runThroughput(pinning, modes ? { ...t, modes } : t);
}
if (only.has('failure')) {
  const f = settings.failure;
  log(`failure path: ${f.rounds} rounds x ${f.roundMs} ms per mode, ${f.concurrency} in flight`);
  failure = await runFailurePath(pinning, f);
}
if (only.has('soak')) {
  log(`soak: ${soakSettings.totalRequests.toLocaleString('en-US')} requests, heap after each 100,000`);
  soak = await runSoak(pinning, soakSettings);
}

const rows: ReportRow[] = [];
const range = (x: Spread, f: (v: number) => string) => `${f(x.median)} [${f(x.min)} – ${f(x.max)}]`;
const pct = (v: number) => `${(100 * v).toFixed(1)}%`;
if (throughput) {
  const m = throughput.modes;
  const sec = 'throughput';
  for (const [name, s] of Object.entries(m)) {
    if (s.rounds.length === 0) continue;
    rows.push(row(sec, `${name} rps`, fmt.rps(s.rps)));
    rows.push(row(sec, `${name} p50 / p99`, `${s.p50Ms.toFixed(2)} / ${s.p99Ms.toFixed(2)} ms`));
    rows.push(row(sec, `${name} client CPU/req`, fmt.us(s.cpuUsPerRequest)));
    if (s.errors > 0) rows.push(row(sec, `${name} errors`, String(s.errors)));
  }
  const ran = (mode: ModeName) => m.raw.rounds.length > 0 && m[mode].rounds.length > 0;
  const ratioRows = (mode: MeshModeName, target?: { ratio: number; cpuUs?: number }) => {
    if (!ran(mode)) return;
    const r = throughput!.ratio[mode];
    const c = throughput!.addedCpuUs[mode];
    rows.push(
      row(
        sec,
        `${mode} / raw rps (paired)`,
        range(r, fmt.ratio),
        target && { target: `>= ${target.ratio}x`, pass: r.median >= target.ratio },
      ),
    );
    const cpu = target?.cpuUs;
    rows.push(
      row(
        sec,
        `${mode} added CPU/req (paired)`,
        range(c, fmt.us),
        cpu === undefined ? undefined : { target: `<= ${cpu} µs`, pass: c.median <= cpu },
      ),
    );
    if (mode !== 'mesh-routed' && mode !== 'mesh-floor' && m['mesh-routed'].rounds.length > 0)
      rows.push(
        row(sec, `${mode} minus mesh-routed CPU/req`, range(throughput!.overRoutedCpuUs[mode], fmt.us)),
      );
  };
  ratioRows('mesh-routed', { ratio: TARGETS.throughputRatio, cpuUs: TARGETS.addedCpuUs });
  ratioRows('mesh-floor');
  ratioRows('mesh-resilient', {
    ratio: TARGETS.resilientThroughputRatio,
    cpuUs: TARGETS.resilientAddedCpuUs,
  });
  ratioRows('mesh-metrics');
  ratioRows('mesh-telemetry-1pct');
  ratioRows('mesh-telemetry-100pct');
  ratioRows('mesh-tracing-no-sdk');
  if (ran('raw-metrics-headers') && m['mesh-metrics'].rounds.length > 0) {
    const r = throughput.metricsOverHeadersRatio;
    rows.push(
      row(sec, 'mesh-metrics / raw-metrics-headers rps', range(r, fmt.ratio), {
        target: `>= ${TARGETS.metricsOverHeadersRatio}x`,
        pass: r.median >= TARGETS.metricsOverHeadersRatio,
      }),
    );
  }
  if (ran('raw-telemetry-headers')) {
    const h = throughput.telemetryHeaders;
    rows.push(row(sec, 'telemetry headers (raw undici sending them)', `${h.bytes} B: ${h.names.join(', ')}`));
    rows.push(
      row(sec, 'raw-telemetry-headers / raw rps (paired)', range(throughput.headersRatio, fmt.ratio)),
    );
    rows.push(
      row(sec, 'raw-telemetry-headers added CPU/req (paired)', range(throughput.headersAddedCpuUs, fmt.us)),
    );
    const headerTargets: Partial<Record<MeshModeName, number>> = {
      'mesh-telemetry-1pct': TARGETS.onePercentOverHeadersRatio,
      'mesh-telemetry-100pct': TARGETS.fullTracingOverHeadersRatio,
    };
    for (const mode of ['mesh-telemetry-1pct', 'mesh-telemetry-100pct', 'mesh-tracing-no-sdk'] as const) {
      if (m[mode].rounds.length === 0) continue;
      const r = throughput.overHeadersRatio[mode];
      const target = headerTargets[mode];
      rows.push(
        row(
          sec,
          `${mode} / raw-telemetry-headers rps`,
          range(r, fmt.ratio),
          target === undefined ? undefined : { target: `>= ${target}x`, pass: r.median >= target },
        ),
      );
    }
  }
  const spans = throughput.spansEnded;
  const sampledShare = (mode: MeshModeName, n: number) => {
    const requests = m[mode].rounds.reduce((t, x) => t + x.requests, 0);
    return requests > 0 ? `${n} spans / ${requests} requests (${pct(n / requests)})` : 'not run';
  };
  rows.push(row(sec, 'mesh-telemetry-1pct spans', sampledShare('mesh-telemetry-1pct', spans.onePercent)));
  rows.push(
    row(sec, 'mesh-telemetry-100pct spans', sampledShare('mesh-telemetry-100pct', spans.hundredPercent)),
  );
  for (const [mode, a] of Object.entries(throughput.allocations)) {
    rows.push(
      row(
        'alloc',
        `${mode} allocated per request`,
        `${(a.bytesPerRequest / 1024).toFixed(2)} KiB (Dabba's code: ${(a.dabbaBytesPerRequest / 1024).toFixed(2)} KiB)`,
      ),
    );
  }
  for (const mode of ['mesh-routed', 'mesh-metrics', 'mesh-telemetry-1pct'] as const) {
    const a = throughput.allocations[mode];
    if (a === undefined) continue;
    const top = a.topDabbaSites
      .slice(0, 4)
      .map((x) => `${x.site} ${Math.round(x.bytes)} B`)
      .join('; ');
    rows.push(row('alloc', `${mode} heaviest Dabba sites`, top || '-'));
  }
  const f = throughput.fixedRate;
  if (f !== undefined) {
    const ms = (x: number) => x.toFixed(2);
    const added = f.mesh.p99Ms - f.raw.p99Ms;
    rows.push(
      row(
        'latency',
        `raw p50 / p90 / p99 at ${f.rps} req/s`,
        `${ms(f.raw.p50Ms)} / ${ms(f.raw.p90Ms)} / ${ms(f.raw.p99Ms)} ms (${f.raw.requests} requests)`,
      ),
    );
    rows.push(
      row(
        'latency',
        `mesh-routed p50 / p90 / p99 at ${f.rps} req/s`,
        `${ms(f.mesh.p50Ms)} / ${ms(f.mesh.p90Ms)} / ${ms(f.mesh.p99Ms)} ms (${f.mesh.requests} requests)`,
      ),
    );
    rows.push(
      row(
        'latency',
        'mesh-routed added p50 / p90 / p99',
        `+${ms(f.mesh.p50Ms - f.raw.p50Ms)} / +${ms(f.mesh.p90Ms - f.raw.p90Ms)} / +${ms(added)} ms`,
        { target: `p99 <= +${TARGETS.fixedRateAddedP99Ms} ms`, pass: added <= TARGETS.fixedRateAddedP99Ms },
      ),
    );
  }
}
if (failure) {
  const f = failure;
  const sec = 'failure';
  const overflowed = (r: { errors: Readonly<Record<string, number>> }) => r.errors.DABBA_OVERFLOW ?? 0;
  const total = (mode: keyof typeof f.rounds, g: (r: (typeof f.rounds)[typeof mode][number]) => number) =>
    f.rounds[mode].reduce((n, r) => n + g(r), 0);
  rows.push(row(sec, 'baseline (resilient, all 200) CPU/req', range(f.baselineCpuUsPerRequest, fmt.us)));
  rows.push(
    row(
      sec,
      'retry: 503 share / retries per req / caller saw 503',
      `${pct(f.retryFailedAttemptShare)} / ${f.retriesPerRequest.toFixed(3)} / ${pct(f.retryCallerFailureShare)}`,
    ),
  );
  rows.push(row(sec, 'retry: CPU per failed attempt (all-in)', range(f.retryCpuUsPerFailedAttempt, fmt.us)));
  rows.push(
    row(
      sec,
      'overflow (UO): share of requests / sent upstream',
      `${pct(f.overflowShare)} / ${total('overflow', (r) => r.upstreamAttempts).toLocaleString('en-US')} of ${total('overflow', (r) => r.requests).toLocaleString('en-US')}`,
    ),
  );
  rows.push(row(sec, 'overflow: CPU per UO-refused request', range(f.overflowCpuUsPerRefusal, fmt.us)));
  rows.push(
    row(sec, 'reference: CPU per request refused at once (no mesh)', range(f.refuseCpuUsPerRequest, fmt.us)),
  );
  rows.push(
    row(
      sec,
      'eject: 503s served per round / caller failures / ejected at end',
      `${f.ejectFailedAttemptsPerRound} / ${f.ejectCallerFailures} / ${f.ejectedAtEnd}`,
    ),
  );
  rows.push(row(sec, 'eject: added CPU/req vs baseline', range(f.ejectAddedCpuUsPerRequest, fmt.us)));
  if (total('overflow', overflowed) === 0)
    rows.push(row(sec, 'overflow: no request overflowed', 'check config'));
}
if (soak) {
  const s = soak;
  const sec = 'soak';
  const first = s.samples[0];
  const last = s.samples.at(-1);
  rows.push(
    row(
      sec,
      'requests / errors / time',
      `${s.options.totalRequests.toLocaleString('en-US')} / ${s.errors} / ${s.seconds.toFixed(0)} s`,
    ),
  );
  rows.push(
    row(
      sec,
      'heapUsed after GC, per 100k (MiB)',
      s.samples.map((x) => (x.heapUsedBytes / 1048576).toFixed(2)).join(' '),
    ),
  );
  if (first && last) {
    rows.push(row(sec, 'rss first / last', `${fmt.mib(first.rssBytes)} / ${fmt.mib(last.rssBytes)}`));
  }
  rows.push(row(sec, 'heapUsed range (max - min)', fmt.mib(s.rangeBytes)));
  rows.push(
    row(
      sec,
      `heapUsed growth, ${first?.requests.toLocaleString('en-US')} -> ${last?.requests.toLocaleString('en-US')}`,
      `${s.growthBytes >= 0 ? '+' : ''}${(s.growthBytes / 1048576).toFixed(2)} MiB`,
      {
        target: `< ${fmt.mib(TARGETS.soakGrowthBytes)}`,
        pass: s.growthBytes < TARGETS.soakGrowthBytes,
      },
    ),
  );
}
if (route && lb && decision && harnessFloorNs !== undefined) {
  const sec = 'micro';
  rows.push(row(sec, 'harness floor (empty body)', fmt.ns(harnessFloorNs)));
  for (const hit of route.hits) {
    rows.push(
      row(
        sec,
        `route select, ${route.routes} routes, ${hit.where} (#${hit.index} ${hit.kind})`,
        fmt.ns(hit.ns),
        {
          target: `<= ${TARGETS.routeNs} ns`,
          pass: hit.ns <= TARGETS.routeNs,
        },
      ),
    );
  }
  for (const r of lb) {
    rows.push(
      row(sec, `LB pick ${r.policy} ${r.weights}, ${ENDPOINT_COUNT} endpoints`, fmt.ns(r.ns), {
        target: `<= ${TARGETS.lbNs} ns`,
        pass: r.ns <= TARGETS.lbNs,
      }),
    );
  }
  rows.push(row(sec, 'request decision, routed (no sockets)', fmt.ns(decision.routedNs)));
  rows.push(row(sec, 'request decision, floor (no sockets)', fmt.ns(decision.floorNs)));
}
if (scale) {
  const sec = 'scale';
  const s = scale.median;
  rows.push(
    row(
      sec,
      `config`,
      `${scale.services} services, ${scale.endpoints} endpoints, ${fmt.mib(scale.yamlBytes)} YAML`,
    ),
  );
  rows.push(row(sec, 'parse YAML', fmt.ms(s.parseMs)));
  rows.push(row(sec, 'translate (Istio -> xDS)', fmt.ms(s.translateMs)));
  rows.push(row(sec, 'snapshot (index, check, freeze)', fmt.ms(s.snapshotMs)));
  rows.push(row(sec, 'compile (client)', fmt.ms(s.compileMs)));
  rows.push(
    row(sec, 'translate + snapshot + compile', fmt.ms(scale.translateCompileMs), {
      target: `<= ${TARGETS.translateCompileMs} ms`,
      pass: scale.translateCompileMs <= TARGETS.translateCompileMs,
    }),
  );
  rows.push(row(sec, 'createMesh(istioFiles) first apply', fmt.ms(scale.meshApplyMs)));
  rows.push(row(sec, 'retained: snapshot', fmt.mib(scale.retainedSnapshotBytes)));
  rows.push(row(sec, 'retained: compiled', fmt.mib(scale.retainedCompiledBytes)));
  rows.push(
    row(sec, 'retained: whole mesh', `${fmt.mib(scale.retainedMeshBytes)} (${scale.openPools} pools open)`),
  );
  rows.push(
    row(sec, 'retained per idle endpoint', fmt.bytes(scale.bytesPerEndpoint), {
      target: `<= ${TARGETS.bytesPerEndpoint} B`,
      pass: scale.bytesPerEndpoint <= TARGETS.bytesPerEndpoint,
    }),
  );
  rows.push(
    row(sec, 'longest event-loop block (apply)', fmt.ms(scale.maxEventLoopBlockMs), {
      target: `<= ${TARGETS.eventLoopBlockMs} ms`,
      pass: scale.maxEventLoopBlockMs <= TARGETS.eventLoopBlockMs,
    }),
  );
}

const cpus = os.cpus();
const machine = {
  cpuModel: cpus[0]?.model ?? 'unknown',
  cpus: cpus.length,
  node: process.version,
  v8: process.versions.v8,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  totalMemoryBytes: os.totalmem(),
  pinning,
};
process.stdout.write(
  `\nDabba benchmark (${quick ? 'quick' : 'full'}) — ${machine.cpuModel}, ${machine.cpus} CPUs, Node ${machine.node}; ${pinning.note}\n\n`,
);
process.stdout.write(`${formatTable(rows)}\n`);

const outDir = path.join(import.meta.dirname, '..', '..', 'bench-results');
await mkdir(outDir, { recursive: true });
const outFile = path.join(outDir, 'latest.json');
const json = {
  timestamp: new Date().toISOString(),
  mode: quick ? 'quick' : 'full',
  machine,
  settings: { ...settings, soak: soakSettings },
  targets: TARGETS,
  results: { throughput, failure, micro: { harnessFloorNs, route, lb, decision }, scale, soak },
  table: rows,
  sink: consumeSink(),
};
await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
process.stdout.write(`\nJSON: ${path.relative(process.cwd(), outFile)}\n`);
const misses = rows.filter((r) => r.status === 'MISS').length;
process.stdout.write(`${rows.filter((r) => r.status === 'PASS').length} PASS, ${misses} MISS\n`);
