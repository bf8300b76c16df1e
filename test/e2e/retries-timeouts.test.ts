/**
 * End to end, on real sockets: route timeouts, per-try timeouts and retries as Envoy's router
 * applies them under Istio configuration.
 *
 * Pins: Istio's default retry policy when a VirtualService sets none (2 retries on
 * connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes, previous-hosts;
 * istio pilot/pkg/networking/core/route/retry/retry.go DefaultPolicy), `retries.attempts: 0`
 * disabling retries, Istio's `timeout` -> RouteAction.timeout and `perTryTimeout` ->
 * RetryPolicy.per_try_timeout; Envoy's router (router filter docs, "x-envoy-retry-on": 5xx
 * includes connect failures, resets and per-try timeouts; no retry once the response started;
 * the route timeout ends the request with response flag UT), and the response flags UF / UT /
 * URX (access-log docs, RESPONSE_FLAGS).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
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
import { closedPort, slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & {
  code?: string;
  responseFlag?: string;
  responseFlags?: string[];
  attempts?: number;
};

async function rejection(p: Promise<unknown>): Promise<MeshError> {
  try {
    await p;
  } catch (err) {
    return err as MeshError;
  }
  assert.fail('the request did not fail');
}

/** Answers 503 on every other request it receives (1st, 3rd, ...), 200 otherwise. */
function flakyHandler(): Parameters<typeof startUpstream>[1] {
  let n = 0;
  return (_req, res, upstream) => {
    n++;
    res.setHeader('x-upstream', upstream.name);
    res.statusCode = n % 2 === 1 ? 503 : 200;
    res.end(res.statusCode === 200 ? 'ok' : 'unavailable');
  };
}

const PORT = 8080;

describe('timeouts and retries', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  /** A mesh whose random source always returns 0.999: backoffs are at the top of their range. */
  let slowBackoffMesh: Mesh;
  const upstreams: Upstream[] = [];
  let ok1: Upstream;
  let ok2: Upstream;
  let flaky: Upstream;
  let flakyDefault: Upstream;
  let slow: Upstream;
  let slow2: Upstream;
  let fast: Upstream;
  let resetter: Upstream;
  let always503: Upstream;
  let slowAbort: Upstream;
  let slowBody: Upstream;
  let refused: number;

  before(async () => {
    const start = async (name: string, handler?: Parameters<typeof startUpstream>[1]) => {
      const u = await startUpstream(name, handler);
      upstreams.push(u);
      return u;
    };
    ok1 = await start('ok1');
    ok2 = await start('ok2');
    flaky = await start('flaky', flakyHandler());
    flakyDefault = await start('flaky-default', flakyHandler());
    slow = await start('slow', slowHandler(1000));
    slow2 = await start('slow2', slowHandler(1000));
    fast = await start('fast');
    resetter = await start('resetter', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '100000' });
      res.write('partial body');
      setTimeout(() => res.socket?.destroy(), 20);
    });
    always503 = await start('always503', (_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    slowAbort = await start('slow-abort', slowHandler(2000));
    slowBody = await start('slow-body', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part;');
      const timer = setTimeout(() => res.end('the rest'), 1000);
      res.on('close', () => clearTimeout(timer));
    });
    refused = await closedPort();

    const three = (prefix: string) => [
      { name: `${prefix}-ok1`, port: ok1.port, labels: { v: 'a' } },
      { name: `${prefix}-ok2`, port: ok2.port, labels: { v: 'b' } },
      { name: `${prefix}-refused`, port: refused, labels: { v: 'c' } },
    ];
    const docs = [
      serviceYaml('refused-default', PORT, three('rd')),
      serviceYaml('refused-noretry', PORT, three('rn')),
      routeYaml('refused-noretry', 'retries: { attempts: 0 }'),
      serviceYaml('flaky5xx', PORT, [{ name: 'flaky-1', port: flaky.port, labels: {} }]),
      routeYaml('flaky5xx', 'retries: { attempts: 3, retryOn: 5xx }'),
      serviceYaml('flaky-default', PORT, [{ name: 'flaky-d-1', port: flakyDefault.port, labels: {} }]),
      serviceYaml('slow-timeout', PORT, [{ name: 'slow-1', port: slow.port, labels: {} }]),
      routeYaml('slow-timeout', 'timeout: 200ms'),
      serviceYaml('slow-body', PORT, [{ name: 'slow-body-1', port: slowBody.port, labels: {} }]),
      routeYaml('slow-body', 'timeout: 200ms'),
      serviceYaml('slowfast', PORT, [
        { name: 'sf-slow', port: slow2.port, labels: { v: 'slow' } },
        { name: 'sf-fast', port: fast.port, labels: { v: 'fast' } },
      ]),
      routeYaml('slowfast', 'retries: { attempts: 2, perTryTimeout: 100ms, retryOn: 5xx }'),
      serviceYaml('resetter', PORT, [{ name: 'resetter-1', port: resetter.port, labels: {} }]),
      routeYaml('resetter', 'retries: { attempts: 3, retryOn: "5xx,reset" }'),
      serviceYaml('post', PORT, [
        { name: 'post-ok', port: ok1.port, labels: { v: 'a' } },
        { name: 'post-ok2', port: ok2.port, labels: { v: 'b' } },
        { name: 'post-refused', port: refused, labels: { v: 'c' } },
      ]),
      serviceYaml('always503', PORT, [{ name: 'a503-1', port: always503.port, labels: {} }]),
      routeYaml('always503', 'retries: { attempts: 5, retryOn: 5xx, backoff: 2s }'),
      serviceYaml('slow-abort', PORT, [{ name: 'slow-abort-1', port: slowAbort.port, labels: {} }]),
    ];
    folder = await createMeshFolder();
    await folder.write('mesh.yaml', docs.join('---\n'));
    // Seeded: with previous-hosts, a retry still lands on the refused endpoint when every one of
    // its host_selection_retry_max_attempts (5) picks does (Envoy returns the last pick), which
    // an unseeded run would hit now and then.
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(7),
    });
    slowBackoffMesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: () => 0.999,
    });
  });

  after(async () => {
    await mesh?.close();
    await slowBackoffMesh?.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  test('(a) one of three endpoints refuses connections: Istio’s default policy retries on another host, every request succeeds', async () => {
    const finals = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const res = await request(`http://refused-default:${PORT}/`, { dispatcher: mesh });
      assert.equal(res.statusCode, 200);
      const who = String(res.headers['x-upstream']);
      finals.set(who, (finals.get(who) ?? 0) + 1);
      await res.body.dump();
    }
    assert.deepEqual([...finals.keys()].sort(), ['ok1', 'ok2']);
  });

  test('(a) control: with `retries: { attempts: 0 }` requests picked onto the refused endpoint fail with DABBA_UPSTREAM_CONNECT_FAILURE / UF', async () => {
    const errors: MeshError[] = [];
    let ok = 0;
    for (let i = 0; i < 60; i++) {
      try {
        const res = await request(`http://refused-noretry:${PORT}/`, { dispatcher: mesh });
        await res.body.dump();
        ok++;
      } catch (err) {
        errors.push(err as MeshError);
      }
    }
    assert.ok(errors.length > 0, 'some requests go to the refused endpoint');
    assert.ok(ok > 0);
    for (const e of errors) {
      assert.equal(e.code, 'DABBA_UPSTREAM_CONNECT_FAILURE');
      assert.equal(e.responseFlag, 'UF');
      assert.deepEqual(e.responseFlags, ['UF']);
      assert.equal(e.attempts, 1);
      assert.equal((e.cause as { code?: string }).code, 'ECONNREFUSED');
    }
  });

  test('(b) an endpoint answering 503 every other time, `retryOn: 5xx, attempts: 3`: every request succeeds and the upstream saw the retries', async () => {
    const before = flaky.received.length;
    for (let i = 0; i < 20; i++) {
      const res = await request(`http://flaky5xx:${PORT}/`, { dispatcher: mesh });
      assert.equal(res.statusCode, 200);
      assert.equal(await res.body.text(), 'ok');
    }
    assert.equal(flaky.received.length - before, 40, 'each request took a 503 then a retried 200');
  });

  test('(b) control: Istio’s default policy (retriable-status-codes with no codes) passes the 503s to the caller', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await request(`http://flaky-default:${PORT}/`, { dispatcher: mesh });
      statuses.push(res.statusCode);
      await res.body.dump();
    }
    assert.equal(statuses.filter((s) => s === 503).length, 5);
    assert.equal(flakyDefault.received.length, 10);
  });

  test('(c) `timeout: 200ms` to an endpoint answering after 1 s: DABBA_UPSTREAM_TIMEOUT / UT in under 600 ms, and the upstream connection is closed', async () => {
    const started = performance.now();
    const err = await rejection(request(`http://slow-timeout:${PORT}/`, { dispatcher: mesh }));
    const elapsed = performance.now() - started;
    assert.equal(err.code, 'DABBA_UPSTREAM_TIMEOUT');
    assert.equal(err.responseFlag, 'UT');
    assert.ok(elapsed >= 190 && elapsed < 600, `failed after ${elapsed} ms`);
    await waitFor(
      () => slow.connections.opened > 0 && slow.connections.closed === slow.connections.opened,
      2000,
      'the upstream to see its connection closed',
    );
  });

  test('(c) the route timeout also covers the response body (Envoy: until the response is complete): the body fails with DABBA_UPSTREAM_TIMEOUT', async () => {
    const started = performance.now();
    const res = await request(`http://slow-body:${PORT}/`, { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    const err = await rejection(res.body.text());
    assert.equal(err.code, 'DABBA_UPSTREAM_TIMEOUT');
    assert.equal(err.responseFlag, 'UT');
    assert.ok(performance.now() - started < 600);
    await waitFor(
      () => slowBody.connections.closed === slowBody.connections.opened,
      2000,
      'the upstream to see its connection closed',
    );
  });

  test('Node’s built-in fetch gets the same: retries hide the refused endpoint, a route timeout rejects with the typed error as `cause`', async () => {
    const init = { dispatcher: mesh } as unknown as RequestInit;
    for (let i = 0; i < 20; i++) {
      const res = await globalThis.fetch(`http://refused-default:${PORT}/`, init);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    const err = await rejection(globalThis.fetch(`http://slow-timeout:${PORT}/`, init));
    assert.equal(err.name, 'TypeError');
    assert.equal((err.cause as MeshError).code, 'DABBA_UPSTREAM_TIMEOUT');
  });

  test('(d) `perTryTimeout: 100ms, attempts: 2, retryOn: 5xx` with one slow and one fast endpoint: every request succeeds, the slow one is retried away', async () => {
    const slowBefore = slow2.received.length;
    for (let i = 0; i < 12; i++) {
      const started = performance.now();
      const res = await request(`http://slowfast:${PORT}/`, { dispatcher: mesh });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['x-upstream'], 'fast');
      await res.body.dump();
      assert.ok(performance.now() - started < 800, 'never waited for the slow endpoint');
    }
    assert.ok(slow2.received.length > slowBefore, 'the slow endpoint was tried and timed out');
  });

  test('(e) the caller’s AbortSignal during a backoff ends the request at once and cancels the retry', async () => {
    const before = always503.received.length;
    const timeoutsBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const controller = new AbortController();
    const started = performance.now();
    const pending = request(`http://always503:${PORT}/`, {
      dispatcher: slowBackoffMesh,
      signal: controller.signal,
    });
    await waitFor(() => always503.received.length > before, 2000, 'the first attempt');
    // The backoff is ~2 s (base 2 s, random at the top of its range); abort well inside it.
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    const err = await rejection(pending);
    assert.equal(err.name, 'AbortError');
    assert.ok(performance.now() - started < 1000);
    const timeoutsAfter = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    assert.ok(timeoutsAfter <= timeoutsBefore, `${timeoutsAfter - timeoutsBefore} timer(s) left behind`);
    await new Promise((r) => setTimeout(r, 2300));
    assert.equal(always503.received.length - before, 1, 'no retry after the abort');
  });

  test('(e) the caller’s AbortSignal during an attempt ends the request promptly and closes the upstream connection', async () => {
    const controller = new AbortController();
    const pending = request(`http://slow-abort:${PORT}/`, { dispatcher: mesh, signal: controller.signal });
    await waitFor(() => slowAbort.received.length > 0, 2000, 'the attempt');
    const started = performance.now();
    controller.abort();
    const err = await rejection(pending);
    assert.equal(err.name, 'AbortError');
    assert.ok(performance.now() - started < 500);
    await waitFor(
      () => slowAbort.connections.closed === slowAbort.connections.opened,
      1000,
      'the upstream to see its connection closed',
    );
    assert.equal(slowAbort.received.length, 1);
  });

  test('(f) a connection reset in the middle of the body: the caller gets an error, and nothing is retried once the response started', async () => {
    const res = await request(`http://resetter:${PORT}/`, { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    await assert.rejects(res.body.text());
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(resetter.received.length, 1);
  });

  test('(g) a POST with a streamed body is not retried after a connect failure; the same POST with a Buffer body is', async () => {
    let streamedFailures = 0;
    for (let i = 0; i < 20; i++) {
      try {
        const res = await request(`http://post:${PORT}/`, {
          dispatcher: mesh,
          method: 'POST',
          body: Readable.from([Buffer.from('streamed')]),
        });
        await res.body.dump();
      } catch (err) {
        assert.equal((err as MeshError).code, 'DABBA_UPSTREAM_CONNECT_FAILURE');
        assert.deepEqual((err as MeshError).responseFlags, ['UF']);
        streamedFailures++;
      }
    }
    assert.ok(streamedFailures > 0, 'a streamed body that hit the refused endpoint failed');
    for (let i = 0; i < 20; i++) {
      const res = await request(`http://post:${PORT}/`, {
        dispatcher: mesh,
        method: 'POST',
        body: Buffer.from('buffered'),
      });
      assert.equal(res.statusCode, 200);
      await res.body.dump();
    }
  });
});
