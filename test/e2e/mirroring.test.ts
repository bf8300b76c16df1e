/**
 * End to end, on real sockets: VirtualService `mirror` / `mirrorPercentage` as Envoy's router
 * shadows requests.
 *
 * Pins: istiod's translation (pilot/pkg/networking/core/route/route.go MirrorPercent: absent
 * percentage = 100%, `mirrorPercentage.value` per million); Envoy's shadow writer
 * (source/common/router/shadow_writer_impl.cc shadowAppendedHost): the copy's Host is the
 * authority with `-shadow` appended to the host part, port kept; the copy is fire-and-forget
 * (the caller gets the primary's response, and a slow or refusing mirror changes nothing for it).
 * Dabba mirrors only bodies it can send twice (none, string, bytes); a streamed body is not.
 */
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { closedPort, startUpstream, type Upstream } from '../support/upstream.ts';

/** mulberry32: a seeded PRNG in [0, 1), so the percentage test is reproducible. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seen {
  readonly url: string;
  readonly host: string | undefined;
  readonly body: string;
}

/** Reads the whole request body, records it, and answers with who it is (after `delayMs`). */
function recording(
  seen: Seen[],
  delayMs = 0,
): (req: IncomingMessage, res: ServerResponse, u: Upstream) => void {
  return (req, res, upstream) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({ url: req.url ?? '', host: req.headers.host, body });
      const timer = setTimeout(() => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ upstream: upstream.name, body }));
      }, delayMs);
      res.on('close', () => clearTimeout(timer));
    });
  };
}

function mirrored(name: string, fields: string): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]
  http:
    - ${fields}
      route: [{ destination: { host: ${name} } }]
`;
}

/** Polls until `count()` has not changed for `quietMs` (mirrors are fire-and-forget). */
async function settled(count: () => number, quietMs = 300): Promise<number> {
  let last = -1;
  while (count() !== last) {
    last = count();
    await new Promise((r) => setTimeout(r, quietMs));
  }
  return last;
}

const PORT = 8080;
const SLOW_MS = 2000;

describe('request mirroring', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const seen = { primary: [] as Seen[], shadow: [] as Seen[], slow: [] as Seen[], pct: [] as Seen[] };
  const upstreams: Upstream[] = [];

  before(async () => {
    const primary = await startUpstream('primary', recording(seen.primary));
    const shadow = await startUpstream('shadow', recording(seen.shadow));
    const slow = await startUpstream('slow', recording(seen.slow, SLOW_MS));
    const pct = await startUpstream('pct', recording(seen.pct));
    upstreams.push(primary, shadow, slow, pct);
    const refusedPort = await closedPort();
    const svc = (name: string, port: number) =>
      serviceYaml(name, PORT, [{ name: `${name}-1`, port, labels: {} }]);
    const docs = [
      svc('primary', primary.port),
      svc('shadow', shadow.port),
      svc('slow', slow.port),
      svc('pct', pct.port),
      svc('refused', refusedPort),
      // Three front services on the primary upstream, each mirroring somewhere else.
      svc('front', primary.port),
      svc('front-slow', primary.port),
      svc('front-refused', primary.port),
      svc('front-pct', primary.port),
      mirrored('front', 'mirror: { host: shadow }'),
      mirrored('front-slow', 'mirror: { host: slow }'),
      mirrored('front-refused', 'mirror: { host: refused }'),
      mirrored(
        'front-pct',
        `mirror: { host: pct }
      mirrorPercentage: { value: 25 }`,
      ),
    ];
    folder = await createMeshFolder();
    await folder.write('mesh.yaml', docs.join('---\n'));
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: mulberry32(20250101),
    });
  });

  after(async () => {
    // destroy(): the slow mirror's request must not hold the test open.
    await mesh?.destroy();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  test('mirror 100%: the mirror gets a copy with Host `<authority host>-shadow:<port>`; the caller gets the primary', async () => {
    const res = await request(`http://front:${PORT}/get?x=1`, { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    assert.equal(((await res.body.json()) as { upstream: string }).upstream, 'primary');
    await waitFor(() => seen.shadow.some((s) => s.url === '/get?x=1'), 2000, 'the mirrored copy');
    const copy = seen.shadow.find((s) => s.url === '/get?x=1')!;
    assert.equal(copy.host, `front-shadow:${PORT}`);
    assert.equal(seen.primary.find((s) => s.url === '/get?x=1')?.host, `front:${PORT}`);
  });

  test('a POST with a Buffer body is mirrored with the same body', async () => {
    const body = Buffer.from('{"order":42}');
    const res = await request(`http://front:${PORT}/orders`, { method: 'POST', body, dispatcher: mesh });
    assert.equal(((await res.body.json()) as { body: string }).body, '{"order":42}');
    await waitFor(() => seen.shadow.some((s) => s.url === '/orders'), 2000, 'the mirrored POST');
    assert.equal(seen.shadow.find((s) => s.url === '/orders')!.body, '{"order":42}');
  });

  test('a streamed body goes to the primary only: it cannot be sent twice', async () => {
    const res = await request(`http://front:${PORT}/streamed`, {
      method: 'POST',
      body: Readable.from([Buffer.from('part1-'), Buffer.from('part2')]),
      dispatcher: mesh,
    });
    assert.equal(((await res.body.json()) as { body: string }).body, 'part1-part2');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      seen.shadow.some((s) => s.url === '/streamed'),
      false,
    );
  });

  test(`a mirror that takes ${SLOW_MS} ms does not delay the primary: each of 5 requests answers in < 500 ms`, async () => {
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      const res = await request(`http://front-slow:${PORT}/slow/${i}`, { dispatcher: mesh });
      assert.equal(((await res.body.json()) as { upstream: string }).upstream, 'primary');
      const ms = performance.now() - start;
      assert.ok(ms < 500, `primary took ${ms} ms`);
    }
    // The copies did arrive; they are answered only after SLOW_MS.
    await waitFor(() => seen.slow.length === 5, 2000, 'five copies at the slow mirror');
  });

  test('a mirror that refuses connections does not fail the primary: 20 of 20 succeed', async () => {
    for (let i = 0; i < 20; i++) {
      const res = await request(`http://front-refused:${PORT}/r/${i}`, { dispatcher: mesh });
      assert.equal(res.statusCode, 200);
      assert.equal(((await res.body.json()) as { upstream: string }).upstream, 'primary');
    }
  });

  test('mirrorPercentage 25% over 2,000 requests: the mirrored share is 25% ± 3 points (about 3 standard deviations)', async () => {
    const N = 2000;
    for (let batch = 0; batch < N; batch += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, i) => {
          const res = await request(`http://front-pct:${PORT}/p/${batch + i}`, { dispatcher: mesh });
          assert.equal(res.statusCode, 200);
          await res.body.dump();
        }),
      );
    }
    const mirroredCount = await settled(() => seen.pct.length);
    const share = mirroredCount / N;
    assert.ok(Math.abs(share - 0.25) <= 0.03, `mirrored share ${share}`);
    assert.ok(seen.pct.every((s) => s.host === `front-pct-shadow:${PORT}`));
  });
});
