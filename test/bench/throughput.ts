/**
 * Throughput and latency: raw undici Pool vs the mesh (routed; routed with every resilience feature
 * configured and none firing; and the no-VirtualService floor)
 * against one upstream process. Modes run in interleaved rounds whose order rotates, so drift
 * (thermal, page cache, JIT) lands on every mode alike; mesh/raw ratios are paired per round.
 */
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Pool } from 'undici';
import { createMeshFolder, type MeshFolder } from '../support/mesh-folder.ts';
import type { Pinning } from './cpu-pinning.ts';
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
import { startUpstreamProcess } from './upstream-process.ts';

export const MODES = ['raw', 'mesh-routed', 'mesh-resilient', 'mesh-floor'] as const;
export type ModeName = (typeof MODES)[number];

export interface ThroughputOptions {
  readonly rounds: number;
  readonly roundMs: number;
  readonly warmupMs: number;
  readonly concurrency: number;
  /** Modes to run (all by default); one mode alone is for profiling. */
  readonly modes?: readonly ModeName[];
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
  readonly routedRatio: Spread;
  readonly resilientRatio: Spread;
  readonly floorRatio: Spread;
  /** mesh CPU µs/request minus raw CPU µs/request, paired per round. */
  readonly routedAddedCpuUs: Spread;
  readonly resilientAddedCpuUs: Spread;
  readonly floorAddedCpuUs: Spread;
  /** mesh-resilient minus mesh-routed CPU µs/request: what the resilience features add. */
  readonly resilientOverRoutedCpuUs: Spread;
}

const gc = (globalThis as { gc?: () => void }).gc;

async function meshFor(folder: MeshFolder, yaml: string): Promise<Mesh> {
  await folder.write('mesh.yaml', yaml);
  return createMesh({
    workload: { namespace: 'default' },
    config: istioFiles(folder.dir, { watch: false }),
    logger: null,
  });
}

export async function runThroughput(pinning: Pinning, options: ThroughputOptions): Promise<ThroughputResult> {
  const upstream = await startUpstreamProcess(pinning, 4);
  const routedFolder = await createMeshFolder();
  const resilientFolder = await createMeshFolder();
  const floorFolder = await createMeshFolder();
  const ports = upstream.ports;
  const raw = new Pool(`http://127.0.0.1:${ports[0]}`);
  const routed = await meshFor(routedFolder, routedServiceYaml(ports));
  const resilient = await meshFor(resilientFolder, routedServiceYaml(ports, RESILIENT_HOST, RESILIENT));
  const floor = await meshFor(floorFolder, floorServiceYaml(ports[0]!));
  const targets: Record<ModeName, LoadTarget> = {
    raw: { url: `http://127.0.0.1:${ports[0]}${REQUEST_PATH}`, dispatcher: raw },
    'mesh-routed': { url: `http://${ROUTED_HOST}:${SERVICE_PORT}${REQUEST_PATH}`, dispatcher: routed },
    'mesh-resilient': {
      url: `http://${RESILIENT_HOST}:${SERVICE_PORT}${REQUEST_PATH}`,
      dispatcher: resilient,
    },
    'mesh-floor': { url: `http://${FLOOR_HOST}:${SERVICE_PORT}${REQUEST_PATH}`, dispatcher: floor },
  };
  try {
    const modes = options.modes ?? MODES;
    for (const mode of modes) await runRound(targets[mode], options.warmupMs, options.concurrency);
    const results: Record<ModeName, RoundResult[]> = {
      raw: [],
      'mesh-routed': [],
      'mesh-resilient': [],
      'mesh-floor': [],
    };
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
        : { median: Number.NaN, min: Number.NaN, max: Number.NaN };
    return {
      options,
      upstreamPorts: ports.length,
      modes: {
        raw: summary(results.raw),
        'mesh-routed': summary(results['mesh-routed']),
        'mesh-resilient': summary(results['mesh-resilient']),
        'mesh-floor': summary(results['mesh-floor']),
      },
      routedRatio: paired('mesh-routed', (m, r) => m.rps / r.rps),
      resilientRatio: paired('mesh-resilient', (m, r) => m.rps / r.rps),
      floorRatio: paired('mesh-floor', (m, r) => m.rps / r.rps),
      routedAddedCpuUs: paired('mesh-routed', (m, r) => m.cpuUsPerRequest - r.cpuUsPerRequest),
      resilientAddedCpuUs: paired('mesh-resilient', (m, r) => m.cpuUsPerRequest - r.cpuUsPerRequest),
      floorAddedCpuUs: paired('mesh-floor', (m, r) => m.cpuUsPerRequest - r.cpuUsPerRequest),
      resilientOverRoutedCpuUs: paired(
        'mesh-resilient',
        (m, r) => m.cpuUsPerRequest - r.cpuUsPerRequest,
        'mesh-routed',
      ),
    };
  } finally {
    await Promise.allSettled([raw.close(), routed.close(), resilient.close(), floor.close()]);
    await Promise.allSettled([routedFolder.remove(), resilientFolder.remove(), floorFolder.remove()]);
    await upstream.stop();
  }
}
