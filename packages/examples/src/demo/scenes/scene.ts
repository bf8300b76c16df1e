/**
 * What a scene of the demo is: a function that drives traffic through the mesh, prints what it
 * sees, and returns a result for the final table and one machine-readable line.
 */
import { once } from 'node:events';
import type { Mesh, MeshOptions } from '@dabba/client';
import type { Display } from '../display.ts';
import { bar } from '../display.ts';
import type { Fleet } from '../fleet.ts';
import type { MeshFolder } from '../mesh-folder.ts';
import { type Answered, type Outcome, type PlannedRequest, sendCounting, sendTraffic } from '../traffic.ts';

/** What every scene gets. */
export interface SceneContext {
  /** The demo's main client, in the locality `CLIENT_LOCALITY`. */
  readonly mesh: Mesh;
  readonly folder: MeshFolder;
  /** The running instances: switch how one answers, ask what it answered. */
  readonly fleet: Pick<Fleet, 'setMode' | 'stats'>;
  readonly display: Display;
  /** Aborted when the demo is interrupted or an instance crashes. */
  readonly signal: AbortSignal;
  /**
   * Creates another client of the same configuration in `locality`, with the `app: demo-client`
   * workload labels unless `extra.labels` says otherwise, and any other mesh options in `extra`;
   * the demo closes it.
   */
  createClient(locality: string, extra?: ClientExtras): Promise<Mesh>;
  /** The demo instance listening on `address:port`, if any. */
  nameOf(address: string, port: number): string | undefined;
}

/** What a scene may add to a client it creates: workload labels and telemetry options. */
export interface ClientExtras {
  readonly labels?: Readonly<Record<string, string>>;
  readonly metrics?: NonNullable<MeshOptions['metrics']>;
  readonly tracing?: NonNullable<MeshOptions['tracing']>;
}

/** What a scene found, for the summary table and the `scene <name>: key=value ...` line. */
export interface SceneResult {
  /** Short stable name, e.g. `canary`. */
  readonly name: string;
  readonly configured: string;
  readonly measured: string;
  /** Whether the measurement agrees with the configuration. */
  readonly ok: boolean;
  /** Measured values, printed as `key=value` in this order. */
  readonly fields: Readonly<Record<string, string | number>>;
}

/** A scene of the demo. */
export type Scene = (ctx: SceneContext) => Promise<SceneResult>;

/** The one line per scene that scripts and tests read: `scene canary: v1=90.1% v2=9.9%`. */
export function formatSceneLine(result: SceneResult): string {
  const fields = Object.entries(result.fields).map(([k, v]) => `${k}=${v}`);
  return `scene ${result.name}: ${fields.join(' ')}`;
}

/**
 * Sends `requests` through `mesh` while the progress line shows a bar and `live(answers)`, the
 * scene's own running tally.
 */
export function driveTraffic(
  ctx: SceneContext,
  label: string,
  requests: readonly PlannedRequest[],
  live: (answered: readonly Answered[]) => string,
  mesh: Mesh = ctx.mesh,
): Promise<Answered[]> {
  return sendTraffic({
    dispatcher: mesh,
    requests,
    signal: ctx.signal,
    minDurationMs: ctx.display.paceMs,
    onProgress: (answered, total) => {
      const count = `${answered.length}`.padStart(`${total}`.length);
      ctx.display.progress(
        `  ${label} [${bar(answered.length / total, 24)}] ${count}/${total}  ${live(answered)}`,
      );
    },
  });
}

/** `n` copies of the same request. */
export function repeat(n: number, request: PlannedRequest): PlannedRequest[] {
  return Array.from({ length: n }, () => request);
}

export interface CountingOptions {
  /** Requests in flight at once. Default 16. */
  readonly concurrency?: number;
  /** Spread the requests over at least this long (at least the display's pace). */
  readonly minDurationMs?: number;
  readonly mesh?: Mesh;
}

/**
 * Like `driveTraffic`, but for scenes where failures are the point: every request's status,
 * instance and latency, errors included.
 */
export function driveCounting(
  ctx: SceneContext,
  label: string,
  requests: readonly PlannedRequest[],
  live: (outcomes: readonly Outcome[]) => string,
  options: CountingOptions = {},
): Promise<Outcome[]> {
  return sendCounting({
    dispatcher: options.mesh ?? ctx.mesh,
    requests,
    signal: ctx.signal,
    minDurationMs: Math.max(ctx.display.paceMs, options.minDurationMs ?? 0),
    ...(options.concurrency ? { concurrency: options.concurrency } : {}),
    onProgress: (outcomes, total) => {
      const count = `${outcomes.length}`.padStart(`${total}`.length);
      ctx.display.progress(
        `  ${label} [${bar(outcomes.length / total, 24)}] ${count}/${total}  ${live(outcomes)}`,
      );
    },
  });
}

const SNAPSHOT_TIMEOUT_MS = 10_000;

/**
 * Writes `sourceRelative` (a file of `mesh/`, e.g. `edits/x.yaml`) over `name` in the mesh's
 * folder, atomically, and resolves once the mesh serves the new snapshot: with the previous and
 * new snapshot versions and how long the reload took.
 */
export async function applyEdit(
  ctx: SceneContext,
  name: string,
  sourceRelative: string,
): Promise<{ previous: string; next: string; reloadMs: number }> {
  const previous = ctx.mesh.snapshot?.version ?? '';
  const started = performance.now();
  const snapshot = once(ctx.mesh, 'snapshot', {
    signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(SNAPSHOT_TIMEOUT_MS)]),
  });
  ctx.folder.replaceWith(name, sourceRelative);
  const [next] = (await snapshot) as [{ version: string }];
  return { previous, next: next.version, reloadMs: Math.round(performance.now() - started) };
}
