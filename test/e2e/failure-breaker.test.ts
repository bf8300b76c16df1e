/**
 * End to end, on real sockets: the opt-in failure-rate breaker (`failureBreaker` option, one
 * opossum CircuitBreaker per cluster). Not Istio-driven: Envoy has no such breaker.
 *
 * Pins: a logical request ending in 5xx (or an upstream error, after retries) is a failure; once
 * the window holds `volumeThreshold` requests and failures exceed `errorThresholdPercentage`, the
 * cluster's requests fail at once with DABBA_CIRCUIT_OPEN and never reach the upstream; after
 * `resetTimeoutMs` one trial request goes through (others are refused while it runs), a failed
 * trial opens it again and a successful one closes it; clusters the option does not name, and a
 * mesh without the option, send every request.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { closedPort, startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & {
  code?: string;
  responseFlag?: string;
  cluster?: string;
  state?: string;
  resetTimeoutMs?: number;
};

const PORT = 8080;
// Long enough that the open-state checks (10 sequential requests) finish before half-open on a
// loaded machine.
const RESET_MS = 1500;
const cluster = (name: string) => `outbound|${PORT}||${name}.default.svc.cluster.local`;

/** One request: its status, or the error it failed with, and how long it took. */
async function send(mesh: Mesh, host: string): Promise<{ status?: number; error?: MeshError; ms: number }> {
  const start = performance.now();
  try {
    const res = await request(`http://${host}:${PORT}/`, { dispatcher: mesh });
    await res.body.text();
    return { status: res.statusCode, ms: performance.now() - start };
  } catch (err) {
    return { error: err as MeshError, ms: performance.now() - start };
  }
}

describe('failure-rate breaker (failureBreaker option, opossum)', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  let plain: Mesh;
  let flaky: Upstream;
  let other: Upstream;
  const mode = { status: 500, delayMs: 0 };
  const events: string[] = [];

  before(async () => {
    flaky = await startUpstream('fb-flaky', (_req, res) => {
      const answer = () => {
        res.statusCode = mode.status;
        res.end(String(mode.status));
      };
      if (mode.delayMs > 0) setTimeout(answer, mode.delayMs);
      else answer();
    });
    other = await startUpstream('fb-other', (_req, res) => {
      res.statusCode = 500;
      res.end('500');
    });
    const refused = await closedPort();
    folder = await createMeshFolder();
    await folder.write(
      'mesh.yaml',
      [
        serviceYaml('fb-flaky', PORT, [{ name: 'fb-flaky-1', port: flaky.port, labels: {} }]),
        serviceYaml('fb-other', PORT, [{ name: 'fb-other-1', port: other.port, labels: {} }]),
        serviceYaml('fb-refused', PORT, [{ name: 'fb-refused-1', port: refused, labels: {} }]),
      ].join('---\n'),
    );
    const config = () => istioFiles(folder.dir, { watch: false });
    mesh = await createMesh({
      config: config(),
      logger: null,
      failureBreaker: {
        clusters: [cluster('fb-flaky'), cluster('fb-refused')],
        volumeThreshold: 5,
        errorThresholdPercentage: 50,
        resetTimeoutMs: RESET_MS,
      },
    });
    for (const e of ['breakerOpen', 'breakerHalfOpen', 'breakerClose'] as const) {
      mesh.on(e, (name) => events.push(`${e} ${name}`));
    }
    plain = await createMesh({ config: config(), logger: null });
  });

  after(async () => {
    await mesh?.close();
    await plain?.close();
    await flaky?.close();
    await other?.close();
    await folder?.remove();
  });

  test('opens after the volume threshold of 5xx, fails fast, half-opens for one trial, reopens on failure and closes on success', async () => {
    const name = cluster('fb-flaky');
    // Closed: the first 5 requests reach the upstream and get its 500 (a response, not an error).
    for (let i = 0; i < 5; i++) assert.equal((await send(mesh, 'fb-flaky')).status, 500);
    assert.equal(flaky.received.length, 5);
    await waitFor(() => events.length === 1, 1000, 'breakerOpen');
    assert.deepEqual(events, [`breakerOpen ${name}`]);

    // Open: refused at once, nothing sent.
    for (let i = 0; i < 10; i++) {
      const r = await send(mesh, 'fb-flaky');
      assert.equal(r.error?.code, 'DABBA_CIRCUIT_OPEN', `request ${i}: ${r.error?.message ?? r.status}`);
      assert.equal(r.error.responseFlag, undefined);
      assert.equal(r.error.cluster, name);
      assert.equal(r.error.state, 'open');
      assert.equal(r.error.resetTimeoutMs, RESET_MS);
      assert.ok(r.ms < 50, `failed fast (${r.ms.toFixed(1)} ms)`);
    }
    assert.equal(flaky.received.length, 5, 'the upstream receives nothing while open');

    // Half-open after resetTimeoutMs: one trial reaches the upstream, fails, and opens it again.
    await waitFor(() => events.length === 2, 2 * RESET_MS + 1000, 'breakerHalfOpen');
    assert.equal((await send(mesh, 'fb-flaky')).status, 500);
    assert.equal(flaky.received.length, 6, 'the trial request reached the upstream');
    await waitFor(() => events.length === 3, 1000, 'breakerOpen again');
    assert.equal((await send(mesh, 'fb-flaky')).error?.code, 'DABBA_CIRCUIT_OPEN');
    assert.equal(flaky.received.length, 6);

    // The upstream recovers (slowly): of three requests at half-open, the trial goes through and
    // the two sent while it is in flight are refused; its 200 closes the breaker.
    mode.status = 200;
    mode.delayMs = 100;
    await waitFor(() => events.length === 4, 2 * RESET_MS + 1000, 'breakerHalfOpen again');
    const trio = await Promise.all([send(mesh, 'fb-flaky'), send(mesh, 'fb-flaky'), send(mesh, 'fb-flaky')]);
    assert.deepEqual(
      trio.map((r) => r.status ?? r.error?.code),
      [200, 'DABBA_CIRCUIT_OPEN', 'DABBA_CIRCUIT_OPEN'],
    );
    assert.equal(trio[1]?.error?.state, 'half-open');
    assert.equal(flaky.received.length, 7);
    await waitFor(() => events.length === 5, 1000, 'breakerClose');

    // Closed again: traffic flows.
    mode.delayMs = 0;
    for (let i = 0; i < 10; i++) assert.equal((await send(mesh, 'fb-flaky')).status, 200);
    assert.equal(flaky.received.length, 17);
    assert.deepEqual(events, [
      `breakerOpen ${name}`,
      `breakerHalfOpen ${name}`,
      `breakerOpen ${name}`,
      `breakerHalfOpen ${name}`,
      `breakerClose ${name}`,
    ]);
  });

  test('control: a mesh without the option, and a cluster the option does not name, send every request', async () => {
    mode.status = 500;
    const before = flaky.received.length;
    for (let i = 0; i < 20; i++) assert.equal((await send(plain, 'fb-flaky')).status, 500);
    assert.equal(flaky.received.length, before + 20);
    for (let i = 0; i < 20; i++) assert.equal((await send(mesh, 'fb-other')).status, 500);
    assert.equal(other.received.length, 20);
    assert.ok(!events.some((e) => e.includes('fb-other')));
  });

  test('upstream errors count once per logical request, after retries: refused connections open it', async () => {
    // Istio's default retry policy retries connect-failure twice: each request is 3 attempts
    // but one failure for the breaker.
    for (let i = 0; i < 5; i++) {
      const r = await send(mesh, 'fb-refused');
      assert.equal(r.error?.code, 'DABBA_UPSTREAM_CONNECT_FAILURE', r.error?.message);
      assert.equal((r.error as MeshError & { attempts?: number }).attempts, 3);
    }
    await waitFor(() => events.includes(`breakerOpen ${cluster('fb-refused')}`), 1000, 'breakerOpen');
    const r = await send(mesh, 'fb-refused');
    assert.equal(r.error?.code, 'DABBA_CIRCUIT_OPEN');
    assert.equal(r.error.cluster, cluster('fb-refused'));
  });
});
