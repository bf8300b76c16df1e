/**
 * End to end, on real sockets: DestinationRule `connectionPool` as Envoy's circuit breakers.
 *
 * Pins: Istio's translation (tcp.maxConnections -> max_connections, http.http1MaxPendingRequests
 * -> max_pending_requests, http.http2MaxRequests -> max_requests; every threshold MaxUint32 when
 * unset: cluster_traffic_policy.go applyConnectionPool) and Envoy's behaviour (circuit breaking
 * docs: a request beyond the connections waits as pending; past max_pending_requests or
 * max_requests it fails at once with response flag UO, never queueing). A leaked slot would make
 * a later burst admit fewer requests, so each scenario is followed by a burst that must behave
 * exactly like the first.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml } from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & {
  code?: string;
  responseFlag?: string;
  limit?: string;
  threshold?: number;
  cluster?: string;
};

const PORT = 8080;
const SLOW_MS = 300;

/** Answers after SLOW_MS; in `reset` mode destroys the connection instead. */
function slowHandler(mode: { reset: boolean }): Parameters<typeof startUpstream>[1] {
  return (_req, res, upstream) => {
    if (mode.reset) {
      setTimeout(() => res.socket?.destroy(), 20);
      return;
    }
    const timer = setTimeout(() => {
      res.setHeader('x-upstream', upstream.name);
      res.end('slow');
    }, SLOW_MS);
    res.on('close', () => clearTimeout(timer));
  };
}

function destinationRule(host: string, pool: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  trafficPolicy:
    connectionPool: ${pool}
`;
}

interface Outcome {
  ok: number;
  errors: MeshError[];
  /** How long each failed request took, ms. */
  failedAfterMs: number[];
}

/** Sends `n` requests at once and waits for all of them. */
async function burst(mesh: Mesh, host: string, n: number, signal?: AbortSignal): Promise<Outcome> {
  const out: Outcome = { ok: 0, errors: [], failedAfterMs: [] };
  const start = performance.now();
  await Promise.all(
    Array.from({ length: n }, async () => {
      try {
        const res = await request(`http://${host}:${PORT}/`, {
          dispatcher: mesh,
          ...(signal ? { signal } : {}),
        });
        await res.body.text();
        if (res.statusCode === 200) out.ok++;
      } catch (err) {
        out.failedAfterMs.push(performance.now() - start);
        out.errors.push(err as MeshError);
      }
    }),
  );
  return out;
}

function assertOverflows(o: Outcome, count: number, limit: string, cluster: string): void {
  const overflows = o.errors.filter((e) => e.code === 'DABBA_OVERFLOW');
  assert.equal(overflows.length, count, `overflows: ${o.errors.map((e) => e.code).join(',')}`);
  for (const e of overflows) {
    assert.equal(e.responseFlag, 'UO');
    assert.equal(e.limit, limit);
    assert.match(e.cluster ?? '', new RegExp(cluster));
  }
}

describe('circuit breaking (DestinationRule connectionPool)', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const upstreams: Upstream[] = [];
  const modes = new Map<string, { reset: boolean }>();
  const byName = new Map<string, Upstream>();

  before(async () => {
    const docs: string[] = [];
    for (const name of ['cb-pending', 'cb-requests', 'cb-control', 'cb-abort', 'cb-retry']) {
      const mode = { reset: false };
      modes.set(name, mode);
      const u = await startUpstream(name, slowHandler(mode));
      upstreams.push(u);
      byName.set(name, u);
      docs.push(serviceYaml(name, PORT, [{ name: `${name}-1`, port: u.port, labels: {} }]));
    }
    const pending =
      '{ tcp: { maxConnections: 1 }, http: { http1MaxPendingRequests: 1, http2MaxRequests: 100 } }';
    docs.push(destinationRule('cb-pending', pending));
    docs.push(destinationRule('cb-abort', pending));
    docs.push(destinationRule('cb-retry', pending));
    docs.push(destinationRule('cb-requests', '{ http: { http2MaxRequests: 3 } }'));
    docs.push(`apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: cb-retry }
spec:
  hosts: [cb-retry]
  http:
    - retries: { attempts: 3, retryOn: reset, perTryTimeout: 1s }
      route: [{ destination: { host: cb-retry } }]
`);
    folder = await createMeshFolder();
    await folder.write('mesh.yaml', docs.join('---\n'));
    mesh = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
  });

  after(async () => {
    await mesh?.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  test('maxConnections 1 + http1MaxPendingRequests 1: of 10 concurrent requests one is active, one pending, 8 fail at once with UO', async () => {
    const u = byName.get('cb-pending')!;
    const o = await burst(mesh, 'cb-pending', 10);
    assert.equal(o.ok, 2);
    assertOverflows(o, 8, 'max_pending_requests', 'cb-pending');
    for (const ms of o.failedAfterMs) assert.ok(ms < 50, `overflow took ${ms.toFixed(1)} ms`);
    assert.ok(u.connections.peak <= 1, `upstream saw ${u.connections.peak} connections at once`);
    assert.equal(u.received.length, 2, 'refused requests never reach the upstream');
    // No slot leaked: the next burst behaves the same.
    const again = await burst(mesh, 'cb-pending', 10);
    assert.equal(again.ok, 2);
    assertOverflows(again, 8, 'max_pending_requests', 'cb-pending');
    assert.ok(u.connections.peak <= 1);
  });

  test('http2MaxRequests 3 (max_requests): 3 of 10 concurrent requests run, 7 fail at once with UO', async () => {
    const o = await burst(mesh, 'cb-requests', 10);
    assert.equal(o.ok, 3);
    assertOverflows(o, 7, 'max_requests', 'cb-requests');
    for (const ms of o.failedAfterMs) assert.ok(ms < 50, `overflow took ${ms.toFixed(1)} ms`);
    assert.equal(o.errors[0]!.threshold, 3);
    const again = await burst(mesh, 'cb-requests', 10);
    assert.equal(again.ok, 3);
  });

  test('control: without a DestinationRule (Istio defaults, unlimited) all 10 succeed', async () => {
    const u = byName.get('cb-control')!;
    const o = await burst(mesh, 'cb-control', 10);
    assert.equal(o.ok, 10);
    assert.deepEqual(o.errors, []);
    assert.ok(u.connections.peak > 1, 'without a limit the pool opens a connection per request');
  });

  test('aborted active and pending requests give their slots back', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const aborted = await burst(mesh, 'cb-abort', 10, ac.signal);
    assert.equal(aborted.ok, 0);
    assertOverflows(aborted, 8, 'max_pending_requests', 'cb-abort');
    assert.equal(aborted.errors.length, 10, 'the two admitted requests were aborted');
    const again = await burst(mesh, 'cb-abort', 10);
    assert.equal(again.ok, 2);
    assertOverflows(again, 8, 'max_pending_requests', 'cb-abort');
  });

  test('retried and failed requests do not leak active or pending slots', async () => {
    const mode = modes.get('cb-retry')!;
    mode.reset = true;
    const failed = await burst(mesh, 'cb-retry', 10);
    assert.equal(failed.ok, 0);
    assertOverflows(failed, 8, 'max_pending_requests', 'cb-retry');
    const resets = failed.errors.filter((e) => e.code === 'DABBA_UPSTREAM_RESET');
    assert.equal(resets.length, 2, failed.errors.map((e) => e.code).join(','));
    assert.ok(byName.get('cb-retry')!.received.length >= 4, 'the admitted requests were retried');
    mode.reset = false;
    const again = await burst(mesh, 'cb-retry', 10);
    assert.equal(again.ok, 2);
    assertOverflows(again, 8, 'max_pending_requests', 'cb-retry');
  });
});
