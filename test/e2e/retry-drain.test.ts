/**
 * End to end, on real sockets: a response that is retried is dropped. Resetting an HTTP/1.1
 * response closes its connection, so a dropped response whose body is small and of known length
 * is read to its end instead and its connection reused by the retry; one of unknown length is
 * still reset. Connections are counted on the server side.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { createMeshFolder, type MeshFolder, routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { type Sent, send } from '../support/send.ts';
import { seededRandom, tally } from '../support/stats.ts';
import { type Handler, startUpstream, type Upstream } from '../support/upstream.ts';

const REQUESTS = 20;

/**
 * Sequential requests, each sent once undici has put the previous connection back: its HTTP/1.1
 * client frees a connection in a setImmediate after the response ends, so a request sent sooner
 * opens a second connection, retries or not.
 */
async function sendSpaced(mesh: Mesh, url: string, n: number): Promise<Sent[]> {
  const out: Sent[] = [];
  for (let i = 0; i < n; i++) {
    out.push(await send(mesh, url));
    await new Promise((resolve) => setImmediate(resolve));
  }
  return out;
}

/** Every other answer is a 503 (the 1st, 3rd, ...), with a body written by `body`. */
function every503(body: (res: Parameters<Handler>[1]) => void): Handler {
  let n = 0;
  return (_req, res, upstream) => {
    res.setHeader('x-upstream', upstream.name);
    if (n++ % 2 === 1) {
      res.end('ok');
      return;
    }
    res.statusCode = 503;
    body(res);
  };
}

describe('retried responses keep their HTTP/1.1 connection when drained', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const up: Record<string, Upstream> = {};

  before(async () => {
    // Node sets content-length when the whole body goes to end() before the headers are sent.
    up.small = await startUpstream(
      'small',
      every503((res) => res.end('upstream unavailable')),
    );
    up.empty = await startUpstream(
      'empty',
      every503((res) => res.end()),
    );
    // Written in two parts: chunked, no content-length.
    up.chunked = await startUpstream(
      'chunked',
      every503((res) => {
        res.write('upstream ');
        res.end('unavailable');
      }),
    );
    up.large = await startUpstream(
      'large',
      every503((res) => res.end(Buffer.alloc(65 * 1024, 97))),
    );
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      Object.keys(up)
        .map((name) => serviceYaml(name, 9080, [{ name, port: up[name]!.port, labels: {} }]))
        .join('---\n'),
    );
    await folder.write(
      'routes.yaml',
      Object.keys(up)
        .map((name) => routeYaml(name, 'retries: { attempts: 1, retryOn: "503" }'))
        .join('---\n'),
    );
    mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(17),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(up)) await u.close();
    await folder?.remove();
  });

  for (const name of ['small', 'empty']) {
    test(`${name} body: ${REQUESTS} requests, each retried once, over one connection`, async () => {
      const sent = await sendSpaced(mesh, `http://${name}:9080/`, REQUESTS);
      assert.deepEqual(tally(sent.map((s) => String(s.status))), { '200': REQUESTS });
      assert.equal(up[name]!.received.length, 2 * REQUESTS);
      assert.equal(up[name]!.connections.opened, 1);
    });
  }

  for (const name of ['chunked', 'large']) {
    test(`${name} body (unknown length or over 64 KiB): each retried response is reset, closing its connection`, async () => {
      const sent = await sendSpaced(mesh, `http://${name}:9080/`, REQUESTS);
      assert.deepEqual(tally(sent.map((s) => String(s.status))), { '200': REQUESTS });
      // One connection per reset 503, the last also serving its retry and the next request.
      assert.ok(up[name]!.connections.opened >= REQUESTS, `${up[name]!.connections.opened} connections`);
    });
  }
});
