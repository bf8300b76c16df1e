/**
 * The Dabba demo (`npm run demo`): a small mesh of local services in child processes,
 * configured by the Istio YAML in `packages/examples/mesh`, with traffic driven through
 * `createMesh()` to show canary splits, header routing, consistent hashing, locality
 * preference, a live configuration edit and `mesh.explain()`; then resilience: retries hiding a
 * flaky instance, outlier ejection, locality failover, fault injection and circuit-breaker
 * overflow; last, telemetry: Istio metrics from two Dabba hops and the trace of one request.
 *
 * Exit codes: 0 when every scene ran (whatever it measured), 1 on an error or a crashed
 * instance, 130 on Ctrl-C (SIGINT), 143 on SIGTERM. Whatever the ending, the child processes
 * are stopped, the meshes closed and the temporary folder removed.
 */
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { createDisplay } from './display.ts';
import { type Fleet, startFleet } from './fleet.ts';
import { formatTable } from './format-table.ts';
import { createMeshFolder, type MeshFolder } from './mesh-folder.ts';
import { canaryScene } from './scenes/canary.ts';
import { circuitBreakerScene } from './scenes/circuit-breaker.ts';
import { consistentHashScene } from './scenes/consistent-hash.ts';
import { explainScene } from './scenes/explain.ts';
import { faultInjectionScene } from './scenes/fault-injection.ts';
import { headerRoutingScene } from './scenes/header-routing.ts';
import { liveEditScene } from './scenes/live-edit.ts';
import { localityScene } from './scenes/locality.ts';
import { localityFailoverScene } from './scenes/locality-failover.ts';
import { outlierEjectionScene } from './scenes/outlier-ejection.ts';
import { retriesScene } from './scenes/retries.ts';
import {
  type ClientExtras,
  formatSceneLine,
  type Scene,
  type SceneContext,
  type SceneResult,
} from './scenes/scene.ts';
import { telemetryScene } from './scenes/telemetry.ts';
import { CLIENT_LOCALITY, INSTANCES } from './topology.ts';
import { workloadEntriesYaml } from './workload-entries.ts';

const SCENES: readonly Scene[] = [
  canaryScene,
  headerRoutingScene,
  consistentHashScene,
  localityScene,
  liveEditScene,
  explainScene,
  retriesScene,
  outlierEjectionScene,
  localityFailoverScene,
  faultInjectionScene,
  circuitBreakerScene,
  telemetryScene,
];

/** Why the demo stopped early: a signal, with the exit code a shell expects for it. */
class Interrupted extends Error {
  readonly exitCode: number;
  constructor(signal: NodeJS.Signals, exitCode: number) {
    super(`interrupted by ${signal}`);
    this.exitCode = exitCode;
  }
}

const display = createDisplay();
const controller = new AbortController();
const aborted = new Promise<never>((_, reject) => {
  controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
});
// Only the race below observes `aborted`; a rejection nobody awaits must not crash the process.
aborted.catch(() => {});

/**
 * Ctrl-C in a terminal signals the whole process group, and npm forwards the signal it got as
 * well: one keypress can arrive twice, and must not count as the impatient second one.
 */
const SAME_KEYPRESS_MS = 500;
let interruptedAt = 0;

let fleet: Fleet | undefined;
let folder: MeshFolder | undefined;
const meshes: Mesh[] = [];

// Last resort, whatever ends the process (an uncaught error included): no orphan instance and
// no stray temporary folder. Both calls are synchronous, as an 'exit' handler must be.
process.on('exit', () => {
  fleet?.killAll();
  folder?.remove();
});

function onSignal(signal: NodeJS.Signals, exitCode: number) {
  process.on(signal, () => {
    if (!controller.signal.aborted) {
      interruptedAt = performance.now();
      controller.abort(new Interrupted(signal, exitCode));
    } else if (performance.now() - interruptedAt > SAME_KEYPRESS_MS) {
      // A second Ctrl-C while cleaning up: stop waiting (the 'exit' handler still cleans up).
      process.exit(exitCode);
    }
  });
}
onSignal('SIGINT', 130);
onSignal('SIGTERM', 143);
onSignal('SIGHUP', 129);

/** Waits for `work`, unless the demo is interrupted or an instance crashes first. */
function unlessAborted<T>(work: Promise<T>): Promise<T> {
  return Promise.race([work, aborted]);
}

async function run(): Promise<SceneResult[]> {
  display.line(display.bold('Dabba demo') + ': a service mesh inside the Node.js process');
  display.line();
  display.line(
    `Starting ${INSTANCES.length} service instances (one child process each, loopback, OS-chosen ports)...`,
  );
  const started = performance.now();
  fleet = await startFleet(INSTANCES, { onCrash: (err) => controller.abort(err), signal: controller.signal });
  const instances = fleet.instances;
  const byPort = new Map(instances.map((i) => [i.port, i.name]));
  for (const line of formatTable(
    ['instance', 'version', 'locality', 'address', 'pid'],
    instances.map((i) => [i.name, i.version, i.locality, `127.0.0.1:${i.port}`, `${i.pid}`]),
  )) {
    display.line(`   ${line}`);
  }
  display.line(
    `   ${instances.length} instances listening after ${Math.round(performance.now() - started)} ms`,
  );
  folder = createMeshFolder();
  folder.write('workload-entries.yaml', workloadEntriesYaml(instances));
  display.line(`Istio YAML: ${folder.dir} (packages/examples/mesh + generated workload-entries.yaml)`);
  const config = istioFiles(folder.dir, { debounceMs: 20 });
  const logger = {
    error: (message: string) => display.line(display.bad(`config error: ${message}`)),
    notice: (message: string) => display.line(display.dim(`config notice: ${message}`)),
  };
  const createClient = async (locality: string, extra: ClientExtras = {}) => {
    const { labels = { app: 'demo-client' }, ...telemetry } = extra;
    const mesh = await unlessAborted(
      createMesh({
        workload: { namespace: 'default', labels, locality },
        config,
        logger,
        ...telemetry,
      }),
    );
    meshes.push(mesh);
    return mesh;
  };
  const mesh = await createClient(CLIENT_LOCALITY);
  display.line(
    `Mesh ready: client workload in ${CLIENT_LOCALITY}, configuration snapshot ${mesh.snapshot?.version}`,
  );
  display.line();

  const ctx: SceneContext = {
    mesh,
    folder,
    fleet,
    display,
    signal: controller.signal,
    createClient,
    nameOf: (address, port) => (address === '127.0.0.1' ? byPort.get(port) : undefined),
  };
  const results: SceneResult[] = [];
  for (const scene of SCENES) {
    const result = await unlessAborted(scene(ctx));
    display.line(display.accent(formatSceneLine(result)));
    display.line();
    results.push(result);
  }
  return results;
}

function printSummary(results: readonly SceneResult[]) {
  display.line(display.bold('Summary'));
  const rows = results.map((r) => [r.name, r.configured, r.measured, r.ok ? 'ok' : 'OFF']);
  for (const line of formatTable(['scene', 'configured', 'measured', 'result'], rows)) {
    display.line(`   ${line}`);
  }
  const off = results.filter((r) => !r.ok).length;
  display.line(`scene summary: scenes=${results.length} ok=${results.length - off} off=${off}`);
}

async function cleanUp(): Promise<void> {
  const closing = meshes.map((m) => m.destroy().catch(() => {}));
  await Promise.all([fleet?.stop(1000), ...closing]);
  folder?.remove();
}

let exitCode = 0;
try {
  printSummary(await run());
} catch (err) {
  display.clearProgress();
  // An interruption or a crashed instance also fails the requests in flight; report the cause,
  // not its echo.
  const cause = controller.signal.aborted ? controller.signal.reason : err;
  if (cause instanceof Interrupted) {
    display.line();
    display.line(`${cause.message}; stopping the instances and cleaning up`);
    exitCode = cause.exitCode;
  } else {
    display.line(display.bad(`demo failed: ${cause instanceof Error ? cause.message : String(cause)}`));
    exitCode = 1;
  }
}
await cleanUp();
// Requests abandoned by an interruption may still hold sockets; nothing is left to wait for.
process.exit(exitCode);
