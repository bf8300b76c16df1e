/**
 * The demo's service instances, each in its own child process (`upstream-server.ts`), as
 * separate workloads would be. Starting waits until every child reports the port the OS gave
 * it; a child that dies while the fleet is up is reported, never silently ignored.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';
import type { InstanceCommand, InstanceMode, InstanceStats, UpstreamMessage } from './instance-mode.ts';
import type { InstanceSpec } from './topology.ts';

/** A started instance and the loopback port it listens on. */
export interface RunningInstance extends InstanceSpec {
  readonly port: number;
  readonly pid: number;
}

export interface Fleet {
  readonly instances: readonly RunningInstance[];
  /** Switches how instance `name` answers; resolves once the instance has switched. */
  setMode(name: string, mode: InstanceMode): Promise<void>;
  /** What instance `name` has answered since it started. */
  stats(name: string): Promise<InstanceStats>;
  /** Stops every child (SIGTERM), waiting at most `graceMs` before SIGKILL. */
  stop(graceMs?: number): Promise<void>;
  /** Kills every child now, synchronously; for the last moments of the process. */
  killAll(): void;
}

export interface FleetOptions {
  /** Called once if a child exits while the fleet runs (not when the fleet stops it). */
  readonly onCrash: (error: Error) => void;
  /** How long children may take to report their port. Default 10 s. */
  readonly startTimeoutMs?: number;
  /** Aborting while the fleet starts kills the children started so far and rejects. */
  readonly signal?: AbortSignal;
}

// Run the same flavour of file as this module: `.ts` from source, `.js` from `dist`.
const SERVER_SCRIPT = path.join(import.meta.dirname, `upstream-server${path.extname(import.meta.filename)}`);

function waitForPort(child: ChildProcess, spec: InstanceSpec, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`${spec.name} did not start within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (message: UpstreamMessage) => {
      if (message.type !== 'listening') return;
      cleanup();
      resolve(message.port);
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
      fail(new Error(`${spec.name} exited before listening (${signal ?? `code ${code}`})`));
    const onError = (err: Error) => fail(err);
    function fail(err: Error) {
      cleanup();
      reject(err);
    }
    function cleanup() {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      child.off('error', onError);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.once('error', onError);
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Forks one child per instance and resolves when all listen. If any fails to start, the
 * others are killed before the promise rejects.
 */
export async function startFleet(specs: readonly InstanceSpec[], options: FleetOptions): Promise<Fleet> {
  let stopping = false;
  let crashed = false;
  const children: ChildProcess[] = [];
  const killAll = () => {
    stopping = true;
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const ports = specs.map((spec) => {
    const child = fork(SERVER_SCRIPT, [JSON.stringify(spec)], {
      // The server needs no flags of the demo's own (conditions, inspector, test runner).
      execArgv: [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'json',
    });
    children.push(child);
    child.once('exit', (code, signal) => {
      if (stopping || crashed) return;
      crashed = true;
      options.onCrash(
        new Error(
          `instance ${spec.name} (pid ${child.pid}) exited unexpectedly (${signal ?? `code ${code}`})`,
        ),
      );
    });
    return waitForPort(child, spec, options.startTimeoutMs ?? 10_000);
  });
  const { promise: aborted, reject: abort } = Promise.withResolvers<never>();
  const onAbort = () => abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  let resolved: number[];
  try {
    resolved = await Promise.race([Promise.all(ports), aborted]);
  } catch (err) {
    killAll();
    throw err;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  const instances = specs.map((spec, i) =>
    Object.freeze({ ...spec, port: resolved[i]!, pid: children[i]!.pid! }),
  );
  let nextId = 0;
  /** Sends `command` to instance `name` and resolves with its answer (same `id`). */
  const ask = (name: string, command: InstanceCommand): Promise<UpstreamMessage> => {
    const child = children[specs.findIndex((s) => s.name === name)];
    if (!child?.connected) return Promise.reject(new Error(`no running instance ${name}`));
    return new Promise((resolve, reject) => {
      const onMessage = (message: UpstreamMessage) => {
        if (!('id' in message) || message.id !== command.id) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(message);
      };
      // The crash itself is reported through onCrash; this only ends the wait.
      const onExit = () => {
        child.off('message', onMessage);
        reject(new Error(`instance ${name} exited`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send(command);
    });
  };
  return {
    instances,
    async setMode(name, mode) {
      await ask(name, { type: 'set-mode', id: nextId++, mode });
    },
    async stats(name) {
      const m = await ask(name, { type: 'stats', id: nextId++ });
      if (m.type !== 'stats') throw new Error(`instance ${name} answered ${m.type} to stats`);
      return { requests: m.requests, errors: m.errors, peakConnections: m.peakConnections };
    },
    killAll,
    async stop(graceMs = 2000) {
      stopping = true;
      const done = Promise.all(children.map(exited));
      for (const child of children) {
        // Closing the IPC channel is the instance's signal to shut down (see upstream-server.ts).
        if (child.connected) child.disconnect();
        else if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      }
      const timer = setTimeout(killAll, graceMs);
      await done;
      clearTimeout(timer);
    },
  };
}
