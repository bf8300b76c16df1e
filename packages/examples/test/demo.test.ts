/**
 * The README's demo, run as a user's CI would run it: a child process with no terminal. Each
 * scene prints one `scene <name>: key=value ...` line; the test reads those and checks the
 * measured numbers against the YAML in `mesh/`, then checks that nothing is left behind.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

const MAIN = path.join(import.meta.dirname, '..', 'src', 'demo', 'main.ts');

interface DemoRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the demo without a TTY; `onOutput` may act on the output so far (e.g. interrupt it). */
function runDemo(onOutput?: (stdout: string, child: ReturnType<typeof spawn>) => void): Promise<DemoRun> {
  const child = spawn(process.execPath, ['--conditions=dabba-source', MAIN], {
    env: { ...process.env, CI: '1', NO_COLOR: '1', FORCE_COLOR: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    onOutput?.(stdout, child);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** `scene <name>: k=v k=v` lines as name -> fields. */
function sceneLines(stdout: string): Map<string, Record<string, string>> {
  const scenes = new Map<string, Record<string, string>>();
  for (const match of stdout.matchAll(/^scene ([a-z-]+): (.*)$/gm)) {
    const fields: Record<string, string> = {};
    for (const pair of match[2]!.split(' ')) {
      const eq = pair.indexOf('=');
      fields[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    scenes.set(match[1]!, fields);
  }
  return scenes;
}

function pct(value: string | undefined): number {
  assert.match(value ?? '', /^\d+(\.\d+)?%$/);
  return Number.parseFloat(value!);
}

/** Measured share within `points` percentage points of the configured weight. */
function assertNear(value: string | undefined, weight: number, points: number, what: string) {
  const measured = pct(value);
  assert.ok(
    Math.abs(measured - weight) <= points,
    `${what}: measured ${measured}%, configured ${weight}% ± ${points}`,
  );
}

/** The instances' pids, from the demo's instance table. */
function instancePids(stdout: string): number[] {
  return [...stdout.matchAll(/127\.0\.0\.1:\d+\s+(\d+)$/gm)].map((m) => Number(m[1]));
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Everything the demo started is gone: its instances and its temporary folder. */
async function assertCleanedUp(stdout: string) {
  const pids = instancePids(stdout);
  assert.equal(pids.length, 12, 'the instance table lists every child pid');
  const deadline = Date.now() + 3000;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(pids.filter(isRunning), [], 'no instance process outlives the demo');
  const dir = /^Istio YAML: (\S+)/m.exec(stdout)?.[1];
  assert.ok(dir, 'the demo names its configuration folder');
  assert.equal(existsSync(dir), false, `${dir} is removed`);
}

test('the demo runs every scene and measures what the YAML configures', { timeout: 60_000 }, async () => {
  const run = await runDemo();
  assert.equal(run.code, 0, `exit code 0\n${run.stdout}\n${run.stderr}`);
  assert.ok(!run.stdout.includes('\u001b'), 'no ANSI codes without a terminal');

  const scenes = sceneLines(run.stdout);
  const canary = scenes.get('canary');
  assert.ok(canary, 'canary scene line');
  assert.equal(canary.requests, '1000');
  assertNear(canary.v1, 90, 5, 'canary v1');
  assertNear(canary.v2, 10, 5, 'canary v2');

  const header = scenes.get('header-routing');
  assert.ok(header, 'header-routing scene line');
  assert.equal(header['jason-v2'], '100.0%');
  assert.equal(header['others-v2'], '0.0%');
  assertNear(header['others-v1'], 50, 10, 'others on v1');
  assertNear(header['others-v3'], 50, 10, 'others on v3');

  const hash = scenes.get('consistent-hash');
  assert.ok(hash, 'consistent-hash scene line');
  assert.equal(hash.stickiness, '100.0%');
  assert.ok(Number(hash.instances) >= 2, `users spread over instances, got ${hash.instances}`);

  const locality = scenes.get('locality');
  assert.ok(locality, 'locality scene line');
  assert.equal(locality['east-in-zone'], '100.0%');
  assert.equal(locality['west-in-zone'], '100.0%');

  const edit = scenes.get('live-edit');
  assert.ok(edit, 'live-edit scene line');
  assertNear(edit.v1, 50, 5, 'v1 after the edit');
  assertNear(edit.v2, 50, 5, 'v2 after the edit');

  const explain = scenes.get('explain');
  assert.ok(explain, 'explain scene line');
  assert.equal(explain.outcome, 'upstream');
  assert.equal(explain.clusters, 'v1:50%,v3:50%');
  assert.equal(explain.priorities, '3', 'reviews v1 has one priority per locality');

  assert.equal(scenes.get('summary')?.off, '0');
  await assertCleanedUp(run.stdout);
});

test('SIGINT stops the demo with exit code 130 and leaves nothing behind', { timeout: 60_000 }, async () => {
  let sent = false;
  const run = await runDemo((stdout, child) => {
    if (!sent && stdout.includes('scene canary:')) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  assert.ok(sent, `the demo got as far as the first scene\n${run.stdout}\n${run.stderr}`);
  assert.equal(run.code, 130, `exit code 130\n${run.stdout}\n${run.stderr}`);
  assert.match(run.stdout, /interrupted by SIGINT/);
  await assertCleanedUp(run.stdout);
});
