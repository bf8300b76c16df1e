/**
 * End to end, on real sockets: the x-envoy-* request headers Envoy's router consumes from the
 * application it fronts (router filter docs, "HTTP headers (consumed from downstreams)":
 * x-envoy-upstream-rq-timeout-ms, x-envoy-upstream-rq-per-try-timeout-ms, x-envoy-retry-on,
 * x-envoy-retry-grpc-on, x-envoy-max-retries, x-envoy-retriable-status-codes,
 * x-envoy-retriable-header-names), their removal before the request goes upstream
 * (RetryStateImpl::create, FilterUtility::finalTimeout), and x-envoy-expected-rq-timeout-ms on
 * the upstream request (router docs, "HTTP headers (produced)"; setTimeoutHeaders).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { seededRandom } from '../support/stats.ts';
import { type Handler, slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

type MeshError = Error & { code?: string; responseFlags?: string[] };

/**
 * Answers with the statuses of `state.script` in turn (a test may refill it), then 200;
 * `x-attempt` numbers the answers since the last refill.
 */
function scripted(
  state: { script: number[]; n?: number },
  extra: (n: number) => Record<string, string> = () => ({}),
): Handler {
  return (_req, res) => {
    const n = state.n ?? 0;
    state.n = n + 1;
    res.writeHead(state.script.shift() ?? 200, { 'x-attempt': String(n + 1), ...extra(n) });
    res.end();
  };
}

describe('x-envoy-* request headers', () => {
  const noretryState = { script: [503] };
  let grpcFailures = 0;
  let folder: MeshFolder;
  let mesh: Mesh;
  const up: Record<string, Upstream> = {};
  const services: Record<string, { handler?: Handler; vs: string }> = {
    // Retries off in the route (`attempts: 0`: no RetryPolicy at all).
    noretry: { handler: scripted(noretryState), vs: 'retries: { attempts: 0 }' },
    maxretries: { handler: (_q, s) => s.writeHead(503).end(), vs: 'retries: { attempts: 0 }' },
    codes: { handler: scripted({ script: [418, 418] }), vs: 'retries: { attempts: 0 }' },
    hdrnames: {
      handler: scripted({ script: [] }, (n) => (n === 0 ? { 'x-try-again': '1' } : {})),
      vs: 'retries: { attempts: 0 }',
    },
    grpc: {
      // grpc-status 14 (unavailable) while `grpcFailures` lasts, then 0; HTTP status 200 always.
      handler: (_req, res) => {
        res.writeHead(200, {
          'content-type': 'application/grpc',
          'grpc-status': grpcFailures-- > 0 ? '14' : '0',
        });
        res.end();
      },
      vs: 'retries: { attempts: 0 }',
    },
    slow: { handler: slowHandler(2000), vs: 'timeout: 5s' },
    slowroute: { handler: slowHandler(600), vs: 'timeout: 100ms' },
    pertry: { vs: 'retries: { attempts: 0 }' },
    echo: { vs: 'timeout: 3s' },
    echonotimeout: { vs: 'retries: { attempts: 0 }' },
  };

  before(async () => {
    // pertry: the first request hangs 400 ms, the next answers at once.
    let pertryCalls = 0;
    services.pertry!.handler = (_req, res) => {
      pertryCalls++;
      if (pertryCalls === 1) {
        const t = setTimeout(() => res.end('late'), 400);
        res.on('close', () => clearTimeout(t));
      } else res.end('on time');
    };
    for (const [name, s] of Object.entries(services)) up[name] = await startUpstream(name, s.handler);
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      Object.keys(services)
        .map((name) => serviceYaml(name, 9080, [{ name, port: up[name]!.port, labels: {} }]))
        .join('---\n'),
    );
    await folder.write(
      'routes.yaml',
      Object.entries(services)
        .map(([name, s]) => routeYaml(name, s.vs))
        .join('---\n'),
    );
    mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(3),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(up)) await u.close();
    await folder?.remove();
  });

  const get = (service: string, headers: Record<string, string> = {}) =>
    request(`http://${service}:9080/`, { dispatcher: mesh, headers });

  test('x-envoy-retry-on creates a retry policy on a route with none: Envoy’s default of 1 retry', async () => {
    const res = await get('noretry', { 'x-envoy-retry-on': '5xx' });
    await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-attempt'], '2');
    // Control: without the header the route's "no retries" stands.
    noretryState.script = [503];
    const plain = await get('noretry');
    await plain.body.text();
    assert.equal(plain.statusCode, 503);
  });

  test('x-envoy-max-retries replaces num_retries; an unparsable value is ignored', async () => {
    const res = await get('maxretries', { 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '3' });
    await res.body.text();
    assert.equal(res.statusCode, 503);
    assert.equal(up.maxretries!.received.length, 4, '1 try + 3 retries');
    const bad = await get('maxretries', { 'x-envoy-retry-on': '5xx', 'x-envoy-max-retries': '3x' });
    await bad.body.text();
    assert.equal(up.maxretries!.received.length, 4 + 2, 'ignored: the default 1 retry');
    // max-retries alone gives no retry condition: nothing is retried.
    const alone = await get('maxretries', { 'x-envoy-max-retries': '5' });
    await alone.body.text();
    assert.equal(up.maxretries!.received.length, 6 + 1);
  });

  test('x-envoy-retriable-status-codes adds codes for retriable-status-codes', async () => {
    const res = await get('codes', {
      'x-envoy-retry-on': 'retriable-status-codes',
      'x-envoy-retriable-status-codes': '500, 418',
      'x-envoy-max-retries': '2',
    });
    await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['x-attempt'], '3');
  });

  test('x-envoy-retriable-header-names retries a response carrying one of the names', async () => {
    const res = await get('hdrnames', {
      'x-envoy-retry-on': 'retriable-headers',
      'x-envoy-retriable-header-names': 'x-other,X-Try-Again',
    });
    await res.body.text();
    assert.equal(res.headers['x-attempt'], '2');
  });

  test('x-envoy-retry-grpc-on retries on grpc-status; x-envoy-retry-on does not read gRPC names', async () => {
    grpcFailures = 1;
    const viaRetryOn = await get('grpc', { 'x-envoy-retry-on': 'unavailable' });
    await viaRetryOn.body.text();
    assert.equal(viaRetryOn.headers['grpc-status'], '14', 'gRPC names are not HTTP conditions');
    assert.equal(up.grpc!.received.length, 1);
    grpcFailures = 1;
    const res = await get('grpc', { 'x-envoy-retry-grpc-on': 'unavailable' });
    await res.body.text();
    assert.equal(res.headers['grpc-status'], '0');
    assert.equal(up.grpc!.received.length, 3);
  });

  test('x-envoy-upstream-rq-timeout-ms sets the route timeout (UT), and 0 disables the route’s', async () => {
    const started = performance.now();
    const err = await get('slow', { 'x-envoy-upstream-rq-timeout-ms': '60' }).then(
      () => assert.fail('expected a timeout'),
      (e: MeshError) => e,
    );
    assert.equal(err.code, 'DABBA_UPSTREAM_TIMEOUT');
    assert.ok(performance.now() - started < 1500, 'ended by the 60 ms header, not the 2 s upstream');
    // The route says 100 ms; the header's 0 turns it off and the 600 ms answer arrives.
    const res = await get('slowroute', { 'x-envoy-upstream-rq-timeout-ms': '0' });
    assert.equal(await res.body.text(), 'slow');
    // An unparsable value is ignored: the route's 100 ms applies.
    const bad = await get('slowroute', { 'x-envoy-upstream-rq-timeout-ms': '-1' }).then(
      () => assert.fail('expected a timeout'),
      (e: MeshError) => e,
    );
    assert.equal(bad.code, 'DABBA_UPSTREAM_TIMEOUT');
  });

  test('x-envoy-upstream-rq-per-try-timeout-ms bounds each try, retried under 5xx', async () => {
    const res = await get('pertry', {
      'x-envoy-upstream-rq-per-try-timeout-ms': '50',
      'x-envoy-retry-on': '5xx',
    });
    assert.equal(await res.body.text(), 'on time');
    assert.equal(up.pertry!.received.length, 2);
  });

  test('consumed headers are not forwarded; other x-envoy-* headers are', async () => {
    const consumed = {
      'x-envoy-upstream-rq-timeout-ms': '2000',
      'x-envoy-upstream-rq-per-try-timeout-ms': '1000',
      'x-envoy-retry-on': '5xx',
      'x-envoy-retry-grpc-on': 'cancelled',
      'x-envoy-max-retries': '1',
      'x-envoy-retriable-status-codes': '418',
      'x-envoy-retriable-header-names': 'x-a',
      'x-envoy-hedge-on-per-try-timeout': 'true',
    };
    const res = await get('echo', { ...consumed, 'x-envoy-custom': 'kept' });
    await res.body.text();
    const seen = up.echo!.received.at(-1)!.headers;
    for (const name of Object.keys(consumed)) assert.equal(seen[name], undefined, name);
    assert.equal(seen['x-envoy-custom'], 'kept');
    // The header's 2 s route timeout and 1 s per-try timeout: the upstream is told the per-try one.
    assert.equal(seen['x-envoy-expected-rq-timeout-ms'], '1000');
  });

  test('x-envoy-expected-rq-timeout-ms: the route timeout when one applies, absent otherwise', async () => {
    await (await get('echo')).body.text();
    assert.equal(up.echo!.received.at(-1)!.headers['x-envoy-expected-rq-timeout-ms'], '3000');
    await (await get('echonotimeout')).body.text();
    assert.equal(up.echonotimeout!.received.at(-1)!.headers['x-envoy-expected-rq-timeout-ms'], undefined);
  });
});
