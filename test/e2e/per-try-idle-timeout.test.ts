/**
 * End to end, on real sockets: RetryPolicy.per_try_idle_timeout (route_components.proto: "an
 * upstream idle timeout per retry attempt ... does not start until after both the entire request
 * has been received by the router and a connection pool connection has been obtained. Unlike
 * per_try_timeout, the idle timer continues once the response starts streaming back to the
 * downstream client"). Istio has no field for it, so the test sets it on the translated routes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import type { RetryPolicy } from '@dabba/discovery';
import { request } from 'undici';
import { routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { seededRandom } from '../support/stats.ts';
import { type Handler, startUpstream, type Upstream } from '../support/upstream.ts';
import { istioWithXdsEdits } from '../support/xds-overrides.ts';

type MeshError = Error & { code?: string; timeout?: string; responseFlags?: string[] };

const IDLE_MS = 250;

/** Holds the response `ms` before answering, then (`then`) answers at once. */
function stallFirst(ms: number): Handler {
  let calls = 0;
  return (_req, res) => {
    calls++;
    if (calls > 1) {
      res.end('prompt');
      return;
    }
    const t = setTimeout(() => res.end('late'), ms);
    res.on('close', () => clearTimeout(t));
  };
}

describe('per_try_idle_timeout', () => {
  let mesh: Mesh;
  const up: Record<string, Upstream> = {};
  const handlers: Record<string, Handler> = {
    // Headers never come on the first attempt; the retry answers.
    stall: stallFirst(3000),
    // Same, on a route that does not retry timeouts (retryOn connect-failure): the request fails.
    stallnoretry: stallFirst(3000),
    // Headers and a first chunk, then nothing for a second.
    bodystall: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      const t = setTimeout(() => res.end('rest'), 3000);
      res.on('close', () => clearTimeout(t));
    },
    // A chunk every 40 ms for 480 ms: longer than IDLE_MS in total, never idle that long.
    trickle: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const t = setInterval(() => {
        res.write(`${n};`);
        if (++n === 12) {
          clearInterval(t);
          res.end('done');
        }
      }, 40);
      res.on('close', () => clearInterval(t));
    },
  };

  before(async () => {
    for (const [name, h] of Object.entries(handlers)) up[name] = await startUpstream(name, h);
    const yaml = Object.keys(handlers)
      .map(
        (name) => `${serviceYaml(name, 9080, [{ name, port: up[name]!.port, labels: {} }])}---
${routeYaml(name, `retries: { attempts: 1, retryOn: ${name === 'stallnoretry' ? 'connect-failure' : '5xx'}, backoff: 1ms }`)}`,
      )
      .join('---\n');
    const idle: NonNullable<RetryPolicy['perTryIdleTimeout']> = {
      $typeName: 'google.protobuf.Duration',
      seconds: 0n,
      nanos: IDLE_MS * 1_000_000,
    };
    const config = istioWithXdsEdits(yaml, ({ routes }) => {
      for (const rc of routes)
        for (const vh of rc.virtualHosts)
          for (const r of vh.routes) {
            const policy = r.action.case === 'route' ? r.action.value.retryPolicy : undefined;
            if (policy !== undefined) policy.perTryIdleTimeout = idle;
          }
    });
    mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config,
      logger: null,
      random: seededRandom(11),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(up)) await u.close();
  });

  const get = (service: string) => request(`http://${service}:9080/`, { dispatcher: mesh });

  test('no response headers within the idle timeout: the attempt times out and is retried (5xx)', async () => {
    const res = await get('stall');
    assert.equal(await res.body.text(), 'prompt');
    assert.equal(up.stall!.received.length, 2);
  });

  test('without a retry left it fails with UT, timeout "per-try-idle"', async () => {
    const started = performance.now();
    const err = await get('stallnoretry').then(
      () => assert.fail('expected a timeout'),
      (e: MeshError) => e,
    );
    assert.equal(err.code, 'DABBA_UPSTREAM_TIMEOUT');
    assert.equal(err.timeout, 'per-try-idle');
    assert.deepEqual(err.responseFlags, ['UT']);
    assert.ok(performance.now() - started < 2000, 'ended by the idle timer, not the upstream');
  });

  test('it still applies once the body streams: a stalled body fails with the timeout', async () => {
    const res = await get('bodystall');
    assert.equal(res.statusCode, 200);
    const err = await res.body.text().then(
      () => assert.fail('expected the body to fail'),
      (e: MeshError) => e,
    );
    assert.equal(err.code, 'DABBA_UPSTREAM_TIMEOUT');
    assert.equal(err.timeout, 'per-try-idle');
  });

  test('every chunk re-arms it: a 480 ms response trickling every 40 ms completes', async () => {
    const res = await get('trickle');
    assert.equal(await res.body.text(), '0;1;2;3;4;5;6;7;8;9;10;11;done');
  });
});
