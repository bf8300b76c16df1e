/**
 * Starts the upstream server in a child process (on its own core when pinned) and makes sure it
 * dies with the benchmark: on normal exit, on SIGINT/SIGTERM, and, through its stdin closing,
 * even when this process is killed outright.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { type Pinning, pinnedCommand } from './cpu-pinning.ts';

export interface UpstreamProcess {
  readonly ports: readonly number[];
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

const SERVER = path.join(import.meta.dirname, 'upstream-server.ts');

export async function startUpstreamProcess(pinning: Pinning, portCount: number): Promise<UpstreamProcess> {
  const [command, args] = pinnedCommand(pinning, process.execPath, [SERVER, String(portCount)]);
  const child: ChildProcess = spawn(command, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const onSignal = (signal: NodeJS.Signals) => {
    kill();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('exit', kill);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const lines = createInterface({ input: child.stdout! });
  const ports = await new Promise<number[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`upstream server exited early (code ${code})`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { ports: number[] }).ports));
  });
  lines.close();

  return {
    ports,
    pid: child.pid,
    async stop() {
      process.off('exit', kill);
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.stdin?.end();
      kill();
      await exited;
    },
  };
}
