/**
 * End to end, on real sockets: VirtualService `fault` as Envoy's fault filter applies it.
 *
 * Pins: istiod's translation (pilot/pkg/networking/core/route/route.go TranslateFault:
 * `percentage.value` per million, `fixedDelay`, `httpStatus` / `grpcStatus`); Envoy's filter
 * (source/extensions/filters/http/fault/fault_filter.cc): the delay holds the request before
 * the router, so nothing is sent upstream during it and the router's route timeout only starts
 * when it ends (router.cc onRequestComplete arms the global timer); an abort answers locally
 * with body `fault filter abort` and sends nothing upstream; a gRPC request gets a trailers-only
 * HTTP 200 with `grpc-status` (Http::Utility::prepareLocalReply).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { seededRandom } from '../support/stats.ts';
import { slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & { code?: string; responseFlag?: string };

const PORT = 8080;

describe('fault injection', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const upstreams: Record<string, Upstream> = {};

  before(async () => {
    const names = ['abort', 'abort30', 'delay', 'delay-timeout', 'delay-fast', 'delay-cancel', 'grpc'];
    for (const name of names) {
      upstreams[name] = await startUpstream(name, name === 'delay-timeout' ? slowHandler(250) : undefined);
    }
    const svc = (name: string) =>
      serviceYaml(name, PORT, [{ name: `${name}-1`, port: upstreams[name]!.port, labels: {} }]);
    const docs = [
      ...names.map(svc),
      routeYaml('abort', 'fault: { abort: { httpStatus: 503, percentage: { value: 100 } } }'),
      routeYaml('abort30', 'fault: { abort: { httpStatus: 503, percentage: { value: 30 } } }'),
      routeYaml('delay', 'fault: { delay: { fixedDelay: 300ms, percentage: { value: 100 } } }'),
      routeYaml(
        'delay-timeout',
        `timeout: 100ms
      fault: { delay: { fixedDelay: 300ms, percentage: { value: 100 } } }`,
      ),
      routeYaml(
        'delay-fast',
        `timeout: 100ms
      fault: { delay: { fixedDelay: 300ms, percentage: { value: 100 } } }`,
      ),
      routeYaml('delay-cancel', 'fault: { delay: { fixedDelay: 5s, percentage: { value: 100 } } }'),
      routeYaml('grpc', 'fault: { abort: { grpcStatus: UNAVAILABLE, percentage: { value: 100 } } }'),
      serviceYaml('moved', PORT, [{ name: 'moved-1', port: upstreams.abort!.port, labels: {} }]),
      `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: moved }
spec:
  hosts: [moved]
  http:
    - match: [{ uri: { prefix: /faulted } }]
      redirect: { uri: /new }
      fault: { abort: { httpStatus: 418, percentage: { value: 100 } } }
    - redirect: { uri: /new }
`,
    ];
    folder = await createMeshFolder();
    await folder.write('mesh.yaml', docs.join('---\n'));
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(20240917),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(upstreams)) await u.close();
    await folder?.remove();
  });

  test('abort 100% with httpStatus 503: a local 503 with body `fault filter abort`; the upstream sees nothing', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await request(`http://abort:${PORT}/`, { dispatcher: mesh });
      assert.equal(res.statusCode, 503);
      assert.equal(await res.body.text(), 'fault filter abort');
    }
    assert.equal(upstreams.abort!.received.length, 0);
  });

  test('abort 30% over 2,000 requests: the aborted share is 30% ± 3.5 points (about 3.4 standard deviations)', async () => {
    const N = 2000;
    let aborted = 0;
    for (let batch = 0; batch < N; batch += 50) {
      const results = await Promise.all(
        Array.from({ length: 50 }, async () => {
          const res = await request(`http://abort30:${PORT}/`, { dispatcher: mesh });
          const body = await res.body.text();
          if (res.statusCode === 503) assert.equal(body, 'fault filter abort');
          else assert.equal(res.statusCode, 200);
          return res.statusCode === 503;
        }),
      );
      aborted += results.filter(Boolean).length;
    }
    const share = aborted / N;
    assert.ok(Math.abs(share - 0.3) <= 0.035, `aborted share ${share}`);
    // Every request not aborted, and only those, reached the upstream.
    assert.equal(upstreams.abort30!.received.length, N - aborted);
  });

  test('fixed delay 300ms at 100%: the response is the upstream’s and takes at least 300ms', async () => {
    const started = performance.now();
    const res = await request(`http://delay:${PORT}/x`, { dispatcher: mesh });
    const body = (await res.body.json()) as { upstream: string; url: string };
    const elapsed = performance.now() - started;
    assert.equal(res.statusCode, 200);
    assert.deepEqual([body.upstream, body.url], ['delay', '/x']);
    assert.ok(elapsed >= 299, `took ${elapsed} ms`);
    assert.equal(upstreams.delay!.received.length, 1);
  });

  test('delay 300ms with a 100ms route timeout and a 250ms upstream: UT, timed from the end of the delay as Envoy’s router does', async () => {
    const started = performance.now();
    const err = await request(`http://delay-timeout:${PORT}/`, { dispatcher: mesh }).then(
      () => assert.fail('the request did not fail'),
      (e: MeshError) => e,
    );
    const elapsed = performance.now() - started;
    assert.equal(err.code, 'DABBA_UPSTREAM_TIMEOUT');
    assert.equal(err.responseFlag, 'UT');
    // 300ms delay, then the 100ms route timer; the upstream got the request after the delay.
    assert.ok(elapsed >= 399 && elapsed < 1000, `took ${elapsed} ms`);
    assert.equal(upstreams['delay-timeout']!.received.length, 1);
  });

  test('delay 300ms with a 100ms route timeout and a fast upstream: the delay does not count against the route timeout', async () => {
    const started = performance.now();
    const res = await request(`http://delay-fast:${PORT}/`, { dispatcher: mesh });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.ok(performance.now() - started >= 299);
  });

  test('the caller aborting during the delay ends the request at once; the upstream sees nothing', async () => {
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(new Error('caller gave up')), 50);
    const err = await request(`http://delay-cancel:${PORT}/`, {
      dispatcher: mesh,
      signal: controller.signal,
    }).then(
      () => assert.fail('the request did not fail'),
      (e: Error) => e,
    );
    const elapsed = performance.now() - started;
    assert.equal(err.message, 'caller gave up');
    assert.ok(elapsed < 1000, `took ${elapsed} ms`);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(upstreams['delay-cancel']!.received.length, 0);
  });

  test('an already-aborted signal fails before any delay', async () => {
    const err = await request(`http://delay-cancel:${PORT}/`, {
      dispatcher: mesh,
      signal: AbortSignal.abort(new Error('too late')),
    }).then(
      () => assert.fail('the request did not fail'),
      (e: Error) => e,
    );
    assert.equal(err.message, 'too late');
  });

  test('gRPC abort: a gRPC request gets HTTP 200 with grpc-status 14 and grpc-message; a plain request gets 200 and the body', async () => {
    const res = await request(`http://grpc:${PORT}/pkg.Svc/Method`, {
      dispatcher: mesh,
      method: 'POST',
      headers: { 'content-type': 'application/grpc' },
      body: Buffer.alloc(5),
    });
    await res.body.dump();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['grpc-status'], '14');
    assert.equal(res.headers['grpc-message'], 'fault filter abort');
    assert.equal(res.headers['content-type'], 'application/grpc');

    const plain = await request(`http://grpc:${PORT}/`, { dispatcher: mesh });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.headers['grpc-status'], undefined);
    assert.equal(await plain.body.text(), 'fault filter abort');
    assert.equal(upstreams.grpc!.received.length, 0);
  });

  test('a redirect route is faulted too: Envoy’s fault filter runs before the router’s redirect', async () => {
    const faulted = await request(`http://moved:${PORT}/faulted`, { dispatcher: mesh });
    assert.equal(faulted.statusCode, 418);
    assert.equal(await faulted.body.text(), 'fault filter abort');
    const control = await request(`http://moved:${PORT}/other`, { dispatcher: mesh });
    await control.body.dump();
    assert.equal(control.statusCode, 301);
    assert.equal(control.headers.location, `http://moved:${PORT}/new`);
  });

  test('Node’s built-in fetch() (undici’s v1 handler API) gets the abort and the delayed response', async () => {
    // The built-in fetch bundles its own undici types; the Mesh is a Dispatcher all the same.
    const init = { dispatcher: mesh } as unknown as RequestInit;
    const res = await fetch(`http://abort:${PORT}/`, init);
    assert.equal(res.status, 503);
    assert.equal(await res.text(), 'fault filter abort');
    const started = performance.now();
    const delayed = await fetch(`http://delay:${PORT}/y`, init);
    assert.equal(delayed.status, 200);
    assert.equal(((await delayed.json()) as { url: string }).url, '/y');
    assert.ok(performance.now() - started >= 299);
  });
});
