/**
 * End to end, on real sockets: the route timeout and the per-try timeouts share one timer, armed
 * for the earlier deadline and re-armed for the next. These pin the interplay Envoy's router
 * defines (router.cc onPerTryTimeout / onResponseTimeout, FilterUtility::finalTimeout; router
 * docs on x-envoy-upstream-rq-per-try-timeout-ms: the route timeout includes every retry).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  routeYaml,
  serviceYaml,
  waitFor,
} from '../support/mesh-folder.ts';
import { seededRandom } from '../support/stats.ts';
import { type Handler, slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & { code?: string; timeout?: string; attempts?: number };

describe('one timer for the route and per-try timeouts', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const up: Record<string, Upstream> = {};
  const services: Record<string, { handler: Handler; policy: string }> = {
    // 300 ms route, 100 ms per try: tries at ~0, ~100 and ~200 ms; the third's per-try deadline
    // (~300 ms) is not before the route's, so the route timeout ends it.
    both: {
      handler: slowHandler(1000),
      policy:
        'timeout: 300ms\n      retries: { attempts: 5, perTryTimeout: 100ms, retryOn: 5xx, backoff: 1ms }',
    },
    // Per-try only: three tries of 100 ms, then the per-try timeout is final.
    pertry: {
      handler: slowHandler(1000),
      policy: 'retries: { attempts: 2, perTryTimeout: 100ms, retryOn: 5xx, backoff: 1ms }',
    },
    // Answers at once, under a route timeout and a per-try timeout.
    quick: {
      handler: (_req, res) => res.end('quick'),
      policy: 'timeout: 2s\n      retries: { attempts: 1, perTryTimeout: 1s, retryOn: 5xx, backoff: 1ms }',
    },
    // Headers at once, the body 250 ms later: past the per-try deadline, which no longer
    // applies once the response started, and well within the route's 1 s.
    slowbody: {
      handler: (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('head;');
        const t = setTimeout(() => res.end('tail'), 250);
        res.on('close', () => clearTimeout(t));
      },
      policy: 'timeout: 1s\n      retries: { attempts: 1, perTryTimeout: 100ms, retryOn: 5xx, backoff: 1ms }',
    },
  };

  before(async () => {
    for (const [name, s] of Object.entries(services)) up[name] = await startUpstream(name, s.handler);
    folder = await createMeshFolder();
    await folder.write(
      'all.yaml',
      Object.entries(services)
        .map(
          ([name, s]) => `${serviceYaml(name, 9080, [{ name, port: up[name]!.port, labels: {} }])}---
${routeYaml(name, s.policy)}`,
        )
        .join('---\n'),
    );
    mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(23),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(up)) await u.close();
    await folder?.remove();
  });

  const fail = async (service: string): Promise<[MeshError, number]> => {
    const started = performance.now();
    const err = await request(`http://${service}:9080/`, { dispatcher: mesh }).then(
      () => assert.fail('expected a timeout'),
      (e: MeshError) => e,
    );
    return [err, performance.now() - started];
  };

  test('per-try timeouts retry until the route timeout, which ends the request at its deadline', async () => {
    const [err, ms] = await fail('both');
    assert.equal(err.code, 'DABBA_UPSTREAM_TIMEOUT');
    assert.equal(err.timeout, 'route');
    // Three tries on time; a late timer on a loaded machine may leave room for only two. At
    // least one per-try timeout was retried before the route deadline ended the request.
    const attempts = err.attempts ?? 0;
    assert.ok(attempts === 2 || attempts === 3, `${attempts} attempts`);
    // The last attempt may be cut by the route deadline before the server reads it.
    await waitFor(() => up.both!.received.length >= attempts - 1, 1000, 'attempts at the server');
    const received = up.both!.received.length;
    assert.ok(received === attempts || received === attempts - 1, `${received} received`);
    assert.ok(ms >= 290 && ms < 900, `${ms} ms`);
  });

  test('without a route timeout each try gets its own per-try deadline; the last one is final', async () => {
    const [err, ms] = await fail('pertry');
    assert.equal(err.timeout, 'per-try');
    assert.equal(err.attempts, 3);
    assert.ok(ms >= 290 && ms < 900, `${ms} ms`);
  });

  test('a per-try deadline passing after the response started changes nothing', async () => {
    const res = await request('http://slowbody:9080/', { dispatcher: mesh });
    assert.equal(await res.body.text(), 'head;tail');
    assert.equal(up.slowbody!.received.length, 1);
  });

  test('a request with both timeouts that succeeds arms one router timer, not two', async () => {
    await (await request('http://quick:9080/', { dispatcher: mesh })).body.text();
    const original = globalThis.setTimeout;
    let routerTimers = 0;
    // Counts the timers armed from the router's source files (undici's own timers are not).
    globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
      const stack = new Error().stack ?? '';
      if (stack.includes('router-request.ts') || stack.includes('router-deadline.ts')) routerTimers++;
      return original(...args);
    }) as typeof setTimeout;
    try {
      const res = await request('http://quick:9080/', { dispatcher: mesh });
      assert.equal(await res.body.text(), 'quick');
    } finally {
      globalThis.setTimeout = original;
    }
    assert.equal(routerTimers, 1);
  });
});
