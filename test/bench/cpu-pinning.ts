/**
 * CPU placement for the throughput run: the upstream gets its own core so the client's figures
 * measure the client, not a fight with the server for one CPU. Where `taskset` is missing or
 * the machine has one core, everything runs unpinned and the report says so.
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Pinning {
  /** Core the client (this process, every thread) runs on, if pinned. */
  readonly clientCore: number | undefined;
  /** Core the upstream server process runs on, if pinned. */
  readonly serverCore: number | undefined;
  readonly note: string;
}

function tasksetWorks(): boolean {
  const probe = spawnSync('taskset', ['-p', String(process.pid)], { stdio: 'ignore' });
  return probe.error === undefined && probe.status === 0;
}

/** Pins this process to core 0 and reserves core 1 for the server, when possible. */
export function pinClient(): Pinning {
  const cores = availableParallelism();
  if (cores < 2) return { clientCore: undefined, serverCore: undefined, note: `unpinned: ${cores} core` };
  if (!tasksetWorks()) return { clientCore: undefined, serverCore: undefined, note: 'unpinned: no taskset' };
  // -a: V8's GC and compiler threads too, or they would run on the server's core.
  const pinned = spawnSync('taskset', ['-a', '-p', '-c', '0', String(process.pid)], { stdio: 'ignore' });
  if (pinned.status !== 0) {
    return { clientCore: undefined, serverCore: undefined, note: 'unpinned: taskset -p failed' };
  }
  return { clientCore: 0, serverCore: 1, note: 'client on core 0, server on core 1' };
}

/** The command line that starts `args` on the server's core (or as is). */
export function pinnedCommand(
  pinning: Pinning,
  command: string,
  args: readonly string[],
): [string, string[]] {
  if (pinning.serverCore === undefined) return [command, [...args]];
  return ['taskset', ['-c', String(pinning.serverCore), command, ...args]];
}
