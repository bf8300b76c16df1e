/**
 * Config scale: a 1,000-service mesh. Times each synchronous stage (parse, translate, snapshot,
 * compile), measures the heap the applied configuration retains per endpoint (pools are lazy,
 * so an idle endpoint should cost only its config), and the longest event-loop block while a
 * real mesh applies it from a folder through istioFiles().
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMesh } from '@dabba/client';
import {
  createSnapshot,
  type IstioResourceSet,
  istioFiles,
  resolveWorkload,
  type Snapshot,
  translateIstio,
} from '@dabba/discovery';
import { createMeshFolder } from '../support/mesh-folder.ts';
import { type CompiledMesh, loadCompileSnapshot } from './client-internals.ts';
import { parseIstioTexts } from './istio-set.ts';
import { ENDPOINTS_PER_SERVICE, scaleConfigFiles, ZONES } from './scale-config.ts';
import { median } from './stats.ts';

export interface ScaleOptions {
  readonly services: number;
  readonly runs: number;
}

export interface StageTimes {
  readonly parseMs: number;
  readonly translateMs: number;
  readonly snapshotMs: number;
  readonly compileMs: number;
}

export interface ScaleResult {
  readonly services: number;
  readonly endpoints: number;
  readonly yamlBytes: number;
  /** Median of the timed runs (after the mesh apply below has warmed the code). */
  readonly median: StageTimes;
  /** Wall time of createMesh(istioFiles(...)) on the folder, the first apply in this process. */
  readonly meshApplyMs: number;
  /** translate + snapshot + compile (the target's scope). */
  readonly translateCompileMs: number;
  readonly retainedSnapshotBytes: number;
  readonly retainedCompiledBytes: number;
  /** Whole Mesh applied from a folder, kept alive: heapUsed delta. */
  readonly retainedMeshBytes: number;
  readonly bytesPerEndpoint: number;
  /** Longest event-loop delay seen while createMesh(istioFiles(...)) applied the config. */
  readonly maxEventLoopBlockMs: number;
  readonly openPools: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

function heapUsed(): number {
  if (!gc) return Number.NaN;
  // Twice: the first pass can leave finalizable garbage for the second.
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const WORKLOAD = resolveWorkload({ namespace: 'default', locality: ZONES[0]! });

type CompileFn = (
  snapshot: Snapshot,
  previous: CompiledMesh | undefined,
  random: () => number,
) => CompiledMesh;

interface Discovered {
  readonly snapshot: Snapshot;
  readonly parseMs: number;
  readonly translateMs: number;
  readonly snapshotMs: number;
}

// Its own function so the parsed set and the translate result are garbage once it returns.
function discover(files: readonly { name: string; text: string }[]): Discovered {
  const t0 = performance.now();
  const set: IstioResourceSet = parseIstioTexts(files);
  const t1 = performance.now();
  const result = translateIstio(set, WORKLOAD);
  if (result.issues.length > 0) throw new Error(result.issues[0]!.message);
  const t2 = performance.now();
  const snapshot = createSnapshot('scale', 'scale', result.resources);
  const t3 = performance.now();
  return { snapshot, parseMs: t1 - t0, translateMs: t2 - t1, snapshotMs: t3 - t2 };
}

interface Run {
  readonly times: StageTimes;
  readonly snapshotBytes: number;
  readonly compiledBytes: number;
}

/** One timed pass; the heap is read between stages, outside the timed sections. */
function run(files: readonly { name: string; text: string }[], compile: CompileFn): Run {
  const base = heapUsed();
  const d = discover(files);
  const withSnapshot = heapUsed();
  const t0 = performance.now();
  const compiled = compile(d.snapshot, undefined, Math.random);
  const compileMs = performance.now() - t0;
  const withCompiled = heapUsed();
  if (compiled.clusters.size === 0) throw new Error('nothing compiled');
  return {
    times: { parseMs: d.parseMs, translateMs: d.translateMs, snapshotMs: d.snapshotMs, compileMs },
    snapshotBytes: withSnapshot - base,
    compiledBytes: withCompiled - withSnapshot,
  };
}

export async function runConfigScale(options: ScaleOptions): Promise<ScaleResult> {
  const { compileSnapshot } = await loadCompileSnapshot();
  const files = scaleConfigFiles(options.services);
  const endpoints = options.services * ENDPOINTS_PER_SERVICE;

  // A real mesh first, while the translator is as cold as it is in a starting service.
  const folder = await createMeshFolder();
  let retainedMeshBytes: number;
  let maxEventLoopBlockMs: number;
  let openPools: number;
  let meshApplyMs: number;
  try {
    for (const f of files) await folder.write(f.name, f.text);
    const before = heapUsed();
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    histogram.enable();
    const start = performance.now();
    const mesh = await createMesh({
      workload: { namespace: 'default', locality: ZONES[0]! },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
    });
    meshApplyMs = performance.now() - start;
    // Let the monitor's timer fire once more so the last block is recorded.
    await sleep(10);
    histogram.disable();
    maxEventLoopBlockMs = histogram.max / 1e6;
    retainedMeshBytes = heapUsed() - before;
    openPools = mesh.openPools;
    await mesh.close();
  } finally {
    await folder.remove();
  }

  const runs: Run[] = [];
  for (let r = 0; r < options.runs; r++) runs.push(run(files, compileSnapshot));
  const times = runs.map((r) => r.times);

  const med: StageTimes = {
    parseMs: median(times.map((t) => t.parseMs)),
    translateMs: median(times.map((t) => t.translateMs)),
    snapshotMs: median(times.map((t) => t.snapshotMs)),
    compileMs: median(times.map((t) => t.compileMs)),
  };
  return {
    services: options.services,
    endpoints,
    yamlBytes: files.reduce((n, f) => n + Buffer.byteLength(f.text), 0),
    meshApplyMs,
    median: med,
    translateCompileMs: med.translateMs + med.snapshotMs + med.compileMs,
    retainedSnapshotBytes: median(runs.map((r) => r.snapshotBytes)),
    retainedCompiledBytes: median(runs.map((r) => r.compiledBytes)),
    retainedMeshBytes,
    bytesPerEndpoint: retainedMeshBytes / endpoints,
    maxEventLoopBlockMs,
    openPools,
  };
}
