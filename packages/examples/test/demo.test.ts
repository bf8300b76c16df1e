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
import { INSTANCES } from '../src/demo/topology.ts';

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
  assert.equal(pids.length, INSTANCES.length, 'the instance table lists every child pid');
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

  // Retries (inventory-virtual-service.yaml): attempts 3 on 5xx hide the flaky instance's 503s
  // (another instance answers the retry); with attempts 0 each of its 503s reaches the caller.
  const retries = scenes.get('retries');
  assert.ok(retries, 'retries scene line');
  assert.ok(pct(retries['errors-with-retries']) <= 1, 'with retries the caller sees (almost) no error');
  assert.ok(Number(retries['instance-503s-with-retries']) >= 30, 'the flaky instance did fail meanwhile');
  assert.equal(retries['caller-503s-without-retries'], retries['instance-503s-without-retries']);
  // One instance of three, 503 half the time: about 1/6 of requests (least-request sends a
  // fast-failing instance a little more).
  const without = pct(retries['errors-without-retries']);
  assert.ok(without >= 8 && without <= 30, `errors without retries: ${without}%`);

  // Outlier ejection (payments-destination-rule.yaml): consecutive5xxErrors 3, so exactly 3
  // requests (sent one at a time) reach the bad instance; out for baseEjectionTime 3s and back
  // at the next 1s sweep.
  const outlier = scenes.get('outlier-ejection');
  assert.ok(outlier, 'outlier-ejection scene line');
  assert.equal(outlier['before-ejection'], '3');
  assert.equal(outlier['caller-errors'], '3');
  assert.equal(outlier.ejected, 'yes', 'explain() shows the instance ejected');
  assert.equal(outlier['while-ejected'], '0');
  const back = Number(outlier['returned-after-ms']);
  assert.ok(back >= 2800 && back <= 4600, `back after ${back} ms`);
  assert.ok(pct(outlier['share-after']) > 0, 'the instance gets traffic again');

  // Locality failover (shipping-destination-rule.yaml): the client's zone, then the same
  // region's other zone while the instance is ejected, never the other region, then back.
  const failover = scenes.get('locality-failover');
  assert.ok(failover, 'locality-failover scene line');
  assert.equal(failover['before-in-zone'], '100.0%');
  assert.equal(failover.failed, '3');
  assert.equal(failover['ejected-east-1b'], '100.0%');
  assert.equal(failover['ejected-west'], '0.0%');
  assert.equal(failover['after-in-zone'], '100.0%');

  // Fault injection (catalog-virtual-service.yaml): abort 20%, delay 200ms 10%, over 1000
  // requests (standard deviations 1.3 and 0.95 points); aborted requests never reach catalog.
  const fault = scenes.get('fault-injection');
  assert.ok(fault, 'fault-injection scene line');
  assertNear(fault.aborted, 20, 5, 'aborted');
  assertNear(fault.delayed, 10, 5, 'delayed');
  const delayedMs = Number(fault['delayed-median-ms']);
  assert.ok(delayedMs >= 200 && delayedMs < 300, `delayed requests take ${delayedMs} ms`);
  assert.ok(Number(fault['others-median-ms']) < 50, 'the others are not delayed');
  const requests = Number(fault.requests);
  const aborted = Math.round((pct(fault.aborted) * requests) / 100);
  assert.equal(Number(fault['upstream-requests']), requests - aborted, 'an abort sends nothing upstream');

  // Circuit breaking (pricing-destination-rule.yaml): maxConnections 1 + http1MaxPendingRequests
  // 2 against a 300 ms service. Of each burst of 10 concurrent requests exactly 3 are admitted
  // (1 on the connection, 2 pending, served one after another: the last after >= 900 ms) and 7
  // fail at once with DABBA_OVERFLOW / UO: under 50 ms (median), where queueing would take 300+.
  // Refused requests never reach the instance, which never has more than one connection open.
  const breaker = scenes.get('circuit-breaker');
  assert.ok(breaker, 'circuit-breaker scene line');
  const bursts = Number(breaker.bursts);
  assert.equal(breaker.concurrent, '10');
  assert.ok(bursts >= 2, `more than one burst, so a leaked slot would show: ${bursts}`);
  assert.equal(Number(breaker.served), 3 * bursts, 'served: 1 active + 2 pending per burst');
  assert.equal(Number(breaker.overflowed), 7 * bursts, 'the rest overflowed with DABBA_OVERFLOW / UO');
  assert.equal(breaker['other-errors'], '0');
  const overflowMs = Number(breaker['overflow-median-ms']);
  assert.ok(overflowMs < 50, `overflow fails fast: median ${overflowMs} ms`);
  const servedMaxMs = Number(breaker['served-max-ms']);
  assert.ok(
    servedMaxMs >= 880 && servedMaxMs < 3000,
    `the last pending request served after ${servedMaxMs} ms`,
  );
  assert.equal(breaker['instance-requests'], breaker.served, 'refused requests never reach the instance');
  assert.equal(breaker['peak-connections'], '1', 'the instance never saw a second connection');

  // Scene 12, telemetry: every request of client -> frontend (mesh.inbound) -> ratings is counted
  // once by each reporter with the peer's workload labels (Istio's metadata exchange), and the
  // last request's trace is CLIENT -> SERVER -> CLIENT under one trace id.
  const telemetry = scenes.get('telemetry');
  assert.ok(telemetry, 'telemetry scene line');
  const sent = telemetry.requests;
  assert.equal(telemetry['source-reported'], sent, 'client: reporter=source, destination_app=frontend');
  assert.equal(
    telemetry['destination-reported'],
    sent,
    'frontend: reporter=destination, source_app=demo-client',
  );
  assert.equal(telemetry['frontend-to-ratings'], sent, 'frontend: reporter=source, destination_app=ratings');
  assert.equal(telemetry.traces, sent, 'one trace (root span) per request at 100% sampling');
  assert.equal(telemetry['trace-kinds'], 'CLIENT,SERVER,CLIENT');
  assert.equal(telemetry['trace-linked'], 'yes');

  assert.equal(scenes.get('summary')?.scenes, '12');
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
