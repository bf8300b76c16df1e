/**
 * End to end, real peers: TLS holds when the configuration or the credentials change under
 * traffic, and where requests leave through an original-destination cluster.
 *
 * - A request in flight under the old configuration that retries after a DestinationRule turned
 *   TLS on must not leave a plaintext connection for the new configuration's requests.
 * - `loadBalancer: PASSTHROUGH` (an ORIGINAL_DST cluster) with `tls` is refused, never sent
 *   through the plain passthrough path in clear.
 * - A rotated CA file applies to the next connection: a TLS session resumed from before the
 *   rotation would skip the certificate checks, so none is resumed across it.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder } from '../support/mesh-folder.ts';
import { createTestPki, type TestCa, type TestPki } from '../support/test-pki.ts';
import { type HttpsPeer, startHttpsPeer, startWireTap, type WireTap } from '../support/tls-peers.ts';

type MeshError = Error & { code?: string; cause?: Error & { code?: string } };

const quietLogger = { error: () => {}, notice: () => {}, warn: () => {} };

function serviceEntry(host: string, target: number, extra = ''): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${host.split('.')[0]} }
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 80, name: http, protocol: HTTP, targetPort: ${target} }]
  endpoints: [{ address: 127.0.0.1 }]
${extra}`;
}

describe('TLS under configuration and credential changes', () => {
  let pki: TestPki;
  let ca: TestCa;
  let rogue: TestCa;
  const folders: MeshFolder[] = [];
  const meshes: Mesh[] = [];

  before(async () => {
    pki = await createTestPki();
    ca = await pki.createCa('changes-ca');
    rogue = await pki.createCa('changes-rogue');
  });

  after(async () => {
    for (const m of meshes) await m.destroy();
    for (const f of folders) await f.remove();
    await pki?.remove();
  });

  async function meshOn(yaml: string, watch: boolean): Promise<{ mesh: Mesh; folder: MeshFolder }> {
    const folder = await createMeshFolder();
    folders.push(folder);
    await folder.write('mesh.yaml', yaml);
    const mesh = await createMesh({
      workload: { namespace: 'default' },
      config: istioFiles(folder.dir, { watch, debounceMs: 10 }),
      logger: quietLogger,
    });
    meshes.push(mesh);
    return { mesh, folder };
  }

  test('regression: a retry of the old configuration leaves no plaintext pool for requests after TLS is turned on', async () => {
    const plaintext: string[] = [];
    let tlsBytes = 0;
    let release: (() => void) | undefined;
    const server: Server = createServer((req, res) => {
      plaintext.push(`${req.url} ${req.headers.authorization ?? ''}`);
      if (req.url === '/slow' && release === undefined) {
        // Held until the new configuration serves, then 503: the router retries.
        new Promise<void>((r) => {
          release = r;
        }).then(() => {
          res.statusCode = 503;
          res.end('busy');
        });
        return;
      }
      res.end('ok');
    });
    server.on('clientError', (_e, socket) => {
      tlsBytes++;
      socket.destroy();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    try {
      const se = `${serviceEntry('svc.example.com', port)}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: svc }
spec:
  hosts: [svc.example.com]
  http: [{ route: [{ destination: { host: svc.example.com } }], retries: { attempts: 2, retryOn: 5xx } }]
`;
      const { mesh, folder } = await meshOn(se, true);
      await (await request('http://svc.example.com/warm', { dispatcher: mesh })).body.text();
      const inFlight = request('http://svc.example.com/slow', { dispatcher: mesh }).then(
        (r) => r.body.text(),
        (e: Error) => e,
      );
      await sleep(100);
      const applied = once(mesh, 'snapshot');
      await folder.write(
        'mesh.yaml',
        `${se}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc }
spec:
  host: svc.example.com
  trafficPolicy: { tls: { mode: SIMPLE, caCertificates: ${ca.certFile} } }
`,
      );
      await applied;
      release!();
      await inFlight;
      const after = await request('http://svc.example.com/after', {
        dispatcher: mesh,
        headers: { authorization: 'Bearer SECRET' },
      }).then(
        (r) => `status ${r.statusCode}`,
        (e: MeshError) => e.code,
      );
      assert.equal(after, 'DABBA_UPSTREAM_CONNECT_FAILURE', 'the plaintext server cannot speak TLS');
      assert.ok(tlsBytes > 0, 'TLS was offered');
      assert.ok(!plaintext.some((p) => p.includes('SECRET')), plaintext.join('\n'));
    } finally {
      release?.();
      server.closeAllConnections();
      server.close();
    }
  });

  test('regression: an ORIGINAL_DST cluster (loadBalancer PASSTHROUGH) with tls is refused, nothing sent', async () => {
    const taps: WireTap[] = [await startWireTap(), await startWireTap()];
    try {
      const rule = (host: string, tls: string) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host.split('.')[0]} }
spec:
  host: ${host}
  trafficPolicy: { loadBalancer: { simple: PASSTHROUGH }, tls: ${tls} }
`;
      const { mesh } = await meshOn(
        [
          serviceEntry('simple.example.com', taps[0]!.port),
          rule('simple.example.com', `{ mode: SIMPLE, caCertificates: ${ca.certFile} }`),
          serviceEntry('mutual.example.com', taps[1]!.port),
          rule('mutual.example.com', '{ mode: ISTIO_MUTUAL }'),
        ].join('---\n'),
        false,
      );
      for (const [host, code] of [
        ['simple.example.com', 'DABBA_UPSTREAM_TLS_UNAVAILABLE'],
        ['mutual.example.com', 'DABBA_MTLS_UNAVAILABLE'],
      ] as const) {
        await assert.rejects(
          request(`http://${host}/x`, { dispatcher: mesh, headers: { authorization: 'Bearer SECRET' } }),
          (e: MeshError) => e.code === code,
        );
      }
      assert.deepEqual(
        taps.map((t) => t.connections.length),
        [0, 0],
      );
    } finally {
      for (const t of taps) await t.close();
    }
  });

  test('a rotated CA file applies to the next connection (no TLS session resumed across the rotation)', async () => {
    const peer: HttpsPeer = await startHttpsPeer(
      await ca.issue('rotating', { dnsNames: ['rot.example.com'] }),
    );
    // A file the rule names, rotated in place (as cert-manager or istio-agent rotate theirs).
    const caFile = path.join(pki.dir, 'rotating-ca.pem');
    await copyFile(ca.certFile, caFile);
    try {
      const { mesh } = await meshOn(
        `${serviceEntry('rot.example.com', peer.port)}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: rot }
spec:
  host: rot.example.com
  trafficPolicy:
    connectionPool: { http: { maxRequestsPerConnection: 1 } }
    tls: { mode: SIMPLE, caCertificates: ${caFile} }
`,
        false,
      );
      // One request per connection: each request makes a new TLS connection.
      for (let i = 0; i < 3; i++) {
        const res = await request('http://rot.example.com/', { dispatcher: mesh });
        assert.equal(res.statusCode, 200);
        await res.body.text();
      }
      // Trust now goes to another CA only: the server's certificate must be refused.
      await copyFile(rogue.certFile, caFile);
      await sleep(20);
      await assert.rejects(request('http://rot.example.com/', { dispatcher: mesh }), (e: MeshError) => {
        assert.equal(e.code, 'DABBA_UPSTREAM_CONNECT_FAILURE');
        assert.match(String(e.cause?.code), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT/);
        return true;
      });
    } finally {
      await peer.close();
    }
  });
});
