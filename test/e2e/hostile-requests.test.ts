/**
 * End to end, real sockets: requests an attacker shapes to slip past routing or into the logs.
 *
 * - Path normalization before routing, as Istio's default MeshConfig `pathNormalization: BASE`
 *   sets Envoy's `normalize_path` (and MERGE_SLASHES adds `merge_slashes`): `/x/../admin`,
 *   `/./admin` and `/%61dmin` meet the `/admin` rule, `//admin` does under MERGE_SLASHES, and
 *   the upstream sees the normalized path, as Envoy rewrites `:path`. NONE leaves paths alone.
 * - Envoy's request header limits (60 KiB with the request target, 100 headers): 431 `DPE`,
 *   nothing sent.
 * - CR/LF in a header or the path never splits an access log line, and undici's refusal to
 *   write such a header is a typed DABBA_INVALID_REQUEST (`DPE`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import type { Dispatcher } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml } from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

const ADMIN_RULE = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: app }
spec:
  hosts: [app]
  http:
    - match: [{ uri: { prefix: /admin } }]
      directResponse: { status: 403, body: { string: "no admin" } }
    - match: [{ uri: { prefix: /slow } }]
      fault: { delay: { fixedDelay: 50ms, percentage: { value: 100 } } }
      route: [{ destination: { host: app } }]
    - route: [{ destination: { host: app } }]
`;

/** Sends through `dispatch()` with the path exactly as given (fetch and request() parse URLs first). */
async function send(
  mesh: Mesh,
  path: string,
  headers?: Dispatcher.DispatchOptions['headers'],
): Promise<{ status: number; body: string }> {
  const res = await mesh.request({ origin: 'http://app:9080', path, method: 'GET', headers: headers ?? {} });
  return { status: res.statusCode, body: await res.body.text() };
}

describe('hostile requests', () => {
  let folder: MeshFolder;
  let upstream: Upstream;
  const meshes: Mesh[] = [];
  const lines: string[] = [];

  async function meshWith(pathNormalization?: 'NONE' | 'BASE' | 'MERGE_SLASHES'): Promise<Mesh> {
    const mesh = await createMesh({
      workload: { namespace: 'default' },
      config: istioFiles(folder.dir, {
        watch: false,
        ...(pathNormalization ? { mesh: { pathNormalization } } : {}),
      }),
      logger: null,
      accessLog: { stream: { write: (line: string) => lines.push(line) } },
    });
    meshes.push(mesh);
    return mesh;
  }

  before(async () => {
    upstream = await startUpstream('app', (req, res) => res.end(`upstream saw ${req.url}`));
    folder = await createMeshFolder();
    await folder.write(
      'app.yaml',
      `${serviceYaml('app', 9080, [{ name: 'app', port: upstream.port, labels: {} }])}---\n${ADMIN_RULE}`,
    );
  });

  after(async () => {
    for (const m of meshes) await m.close();
    await folder?.remove();
    await upstream?.close();
  });

  test('regression: under the default (BASE) /x/../admin, /./admin and /%61dmin meet the /admin rule', async () => {
    const mesh = await meshWith();
    const before = upstream.received.length;
    for (const path of ['/x/../admin', '/./admin', '/%61dmin', '/admin/../admin/x']) {
      assert.deepEqual(await send(mesh, path), { status: 403, body: 'no admin' }, path);
    }
    assert.equal(upstream.received.length, before, 'none reached the upstream');
  });

  test('BASE does not merge slashes (as Envoy): //admin goes to the default route; MERGE_SLASHES meets /admin', async () => {
    const base = await meshWith('BASE');
    assert.deepEqual(await send(base, '//admin'), { status: 200, body: 'upstream saw //admin' });
    const merge = await meshWith('MERGE_SLASHES');
    assert.deepEqual(await send(merge, '//admin'), { status: 403, body: 'no admin' });
    assert.deepEqual(await send(merge, '//a//b?q=//x'), { status: 200, body: 'upstream saw /a/b?q=//x' });
  });

  test('the upstream receives the normalized path; NONE sends the path as it came', async () => {
    const base = await meshWith();
    assert.deepEqual(await send(base, '/a/./b/../c%7e?x=/../y'), {
      status: 200,
      body: 'upstream saw /a/c~?x=/../y',
    });
    const none = await meshWith('NONE');
    assert.deepEqual(await send(none, '/x/../admin'), { status: 200, body: 'upstream saw /x/../admin' });
  });

  test('a path normalized to a delayed route is delayed once and sent normalized; a stray % stays escaped (Chromium CheckForNestedEscapes)', async () => {
    const base = await meshWith();
    const started = performance.now();
    assert.deepEqual(await send(base, '/x/../slow/%%32%65'), {
      status: 200,
      body: 'upstream saw /slow/%252e',
    });
    const elapsed = performance.now() - started;
    assert.ok(elapsed >= 45 && elapsed < 1000, `delayed once by 50 ms: ${elapsed.toFixed(0)} ms`);
  });

  test('a path Envoy refuses (a NUL, a fragment) is answered 400 path_normalization_failed and never sent', async () => {
    const mesh = await meshWith();
    const before = upstream.received.length;
    assert.equal((await send(mesh, '/a%00b')).status, 400);
    assert.equal((await send(mesh, '/a#b')).status, 400);
    assert.equal(upstream.received.length, before);
    assert.ok(lines.some((l) => / 400 - path_normalization_failed /.test(l)));
  });

  test('regression: a 1 MB URL and 10,000 headers get 431 (DPE), nothing is sent; 100 headers pass', async () => {
    const mesh = await meshWith();
    const before = upstream.received.length;
    const big = await send(mesh, `/${'a'.repeat(1024 * 1024)}`);
    assert.deepEqual(big, { status: 431, body: 'Request Header Fields Too Large' });
    const many: Record<string, string> = {};
    for (let i = 0; i < 10_000; i++) many[`x-h${i}`] = 'v';
    assert.equal((await send(mesh, '/', many)).status, 431);
    assert.equal(upstream.received.length, before, 'nothing reached the upstream');
    const last = lines.at(-1)!;
    assert.match(last, / 431 DPE http1\.too_many_headers /);
    assert.ok(last.length < 2000, 'the refused request does not make a huge log line');
    // Host counts as one header, as in Envoy's codec: 99 of the caller's plus Host is 100.
    const ninetyNine: Record<string, string> = {};
    for (let i = 0; i < 99; i++) ninetyNine[`x-h${i}`] = 'v';
    assert.equal((await send(mesh, '/ok', ninetyNine)).status, 200);
    ninetyNine['x-one-more'] = 'v';
    assert.equal((await send(mesh, '/ok', ninetyNine)).status, 431);
  });

  test('regression: CR/LF in user-agent or path never writes a second log line; the request fails typed (DPE)', async () => {
    const mesh = await meshWith();
    lines.length = 0;
    const before = upstream.received.length;
    await assert.rejects(
      send(mesh, '/x', { 'user-agent': 'evil\r\n[2026-01-01T00:00:00.000Z] "GET /forged HTTP/1.1" 200' }),
      (e: Error & { code?: string; responseFlag?: string }) =>
        e.code === 'DABBA_INVALID_REQUEST' && e.responseFlag === 'DPE',
    );
    // A path with CR/LF: BASE percent-encodes control characters, as Envoy's canonicalizer.
    assert.deepEqual(await send(mesh, '/p\r\nq'), { status: 200, body: 'upstream saw /p%0D%0Aq' });
    assert.equal(upstream.received.length, before + 1);
    const written = lines.join('');
    assert.equal(written.split('\n').length - 1, 2, 'two requests, two lines');
    assert.match(written, /evil\\x0d\\x0a\[2026/);
    assert.doesNotMatch(written, /\n\[2026-01-01/);
  });
});
