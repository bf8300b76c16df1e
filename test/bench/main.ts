/**
 * `npm run bench [-- --quick] [-- --only=throughput,micro,scale]`: throughput and latency of the
 * mesh against raw undici, micro-benchmarks of the per-request policies, and config scale.
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
import { ENDPOINT_COUNT, type LbBenchRow, runLbBench } from './lb-bench.ts';
import { fmt, formatTable, type ReportRow, row } from './report.ts';
import { type RouteBenchResult, runRouteBench } from './route-bench.ts';
import type { Spread } from './stats.ts';
import { MODES, type ModeName, runThroughput, type ThroughputResult } from './throughput.ts';
import { consumeSink, type LoopOptions, nsPerOp } from './time-loop.ts';

const SECTIONS = ['throughput', 'micro', 'scale'] as const;
type Section = (typeof SECTIONS)[number];

const TARGETS = {
  throughputRatio: 0.95,
  addedCpuUs: 1,
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
  },
});
const quick = args.quick ?? false;
const only = new Set((args.only?.split(',') ?? SECTIONS) as Section[]);
for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`--only: unknown section "${s}"`);

const modes = args.modes?.split(',') as ModeName[] | undefined;
for (const m of modes ?? []) if (!MODES.includes(m)) throw new Error(`--modes: unknown mode "${m}"`);

const settings = quick
  ? {
      throughput: { rounds: 3, roundMs: 1000, warmupMs: 500, concurrency: 64 },
      loop: { iterations: 1_000_000, runs: 5 },
      scale: { services: 1000, runs: 1 },
    }
  : {
      throughput: { rounds: 10, roundMs: 3000, warmupMs: 3000, concurrency: 64 },
      loop: { iterations: 2_000_000, runs: 7 },
      scale: { services: 1000, runs: 5 },
    };

if ((globalThis as { gc?: unknown }).gc === undefined)
  process.emitWarning('run with --expose-gc: heap figures and between-round GC are skipped');

const pinning = only.has('throughput')
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

const rows: ReportRow[] = [];
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
  const range = (x: Spread, f: (v: number) => string) => `${f(x.median)} [${f(x.min)} – ${f(x.max)}]`;
  const ran = (mode: ModeName) => m.raw.rounds.length > 0 && m[mode].rounds.length > 0;
  if (ran('mesh-routed')) {
    const r = throughput.routedRatio;
    const c = throughput.routedAddedCpuUs;
    rows.push(
      row(sec, 'mesh-routed / raw rps (paired)', range(r, fmt.ratio), {
        target: `>= ${TARGETS.throughputRatio}x`,
        pass: r.median >= TARGETS.throughputRatio,
      }),
    );
    rows.push(
      row(sec, 'mesh-routed added CPU/req (paired)', range(c, fmt.us), {
        target: `<= ${TARGETS.addedCpuUs} µs`,
        pass: c.median <= TARGETS.addedCpuUs,
      }),
    );
  }
  if (ran('mesh-floor')) {
    rows.push(row(sec, 'mesh-floor / raw rps (paired)', range(throughput.floorRatio, fmt.ratio)));
    rows.push(row(sec, 'mesh-floor added CPU/req (paired)', range(throughput.floorAddedCpuUs, fmt.us)));
  }
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
  settings,
  targets: TARGETS,
  results: { throughput, micro: { harnessFloorNs, route, lb, decision }, scale },
  table: rows,
  sink: consumeSink(),
};
await writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
process.stdout.write(`\nJSON: ${path.relative(process.cwd(), outFile)}\n`);
const misses = rows.filter((r) => r.status === 'MISS').length;
process.stdout.write(`${rows.filter((r) => r.status === 'PASS').length} PASS, ${misses} MISS\n`);
