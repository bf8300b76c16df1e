/**
 * End to end, real TLS peers: a request goes over TLS whenever its URL is `https://`, its
 * ServiceEntry port says HTTPS or TLS, or a DestinationRule `tls` asks for it (top level,
 * subset, port level), and a server whose certificate is wrong (another name, an untrusted CA,
 * expired, other SANs than the rule names) is refused. What must be encrypted never leaves the
 * process in clear: a raw TCP listener records the bytes, for every way to ask for TLS and for
 * the ones Dabba must refuse (ISTIO_MUTUAL and auto mTLS without a workload identity, a
 * Kubernetes credentialName), which send nothing at all.
 *
 * The translation follows istiod (cluster_tls.go); the peers are Node's TLS server and
 * `openssl s_server`.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder } from '../support/mesh-folder.ts';
import { createTestPki, type Issued, type TestCa, type TestPki } from '../support/test-pki.ts';
import {
  type HttpsPeer,
  isTlsClientHello,
  type OpensslPeer,
  startHttpsPeer,
  startOpensslPeer,
  startWireTap,
  type WireTap,
} from '../support/tls-peers.ts';

type MeshError = Error & { code?: string; responseFlag?: string; cause?: Error & { code?: string } };

const SECRET = 'Bearer s3cr3t-token';

/** A MESH_EXTERNAL ServiceEntry for `host` on service port `port`, one endpoint on loopback. */
function external(name: string, host: string, port: number, target: number, protocol = 'HTTP'): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: ${name} }
spec:
  hosts: [${host}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: ${port}, name: p${port}, protocol: ${protocol}, targetPort: ${target} }]
  endpoints: [{ address: 127.0.0.1 }]
`;
}

function rule(name: string, host: string, trafficPolicy: string): string {
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${host}
  trafficPolicy:
${trafficPolicy}`;
}

async function get(mesh: Mesh, url: string): Promise<{ status: number; body: string }> {
  const res = await request(url, { dispatcher: mesh, headers: { authorization: SECRET } });
  return { status: res.statusCode, body: await res.body.text() };
}

async function failure(mesh: Mesh, url: string): Promise<MeshError> {
  try {
    const res = await request(url, { dispatcher: mesh, headers: { authorization: SECRET } });
    await res.body.text();
  } catch (err) {
    return err as MeshError;
  }
  return assert.fail(`${url} must fail`);
}

describe('TLS origination and the fail-closed rule', () => {
  let pki: TestPki;
  let ca: TestCa;
  let rogue: TestCa;
  let good: Issued;
  let client: Issued;
  const peers: Record<string, HttpsPeer> = {};
  const taps: Record<string, WireTap> = {};
  let openssl: OpensslPeer;
  let opensslMutual: OpensslPeer;
  let folder: MeshFolder;
  let mesh: Mesh;
  const notices: string[] = [];

  before(async () => {
    pki = await createTestPki();
    ca = await pki.createCa('mesh-test');
    rogue = await pki.createCa('rogue');
    good = await ca.issue('good', {
      dnsNames: ['*.example.com', 'localhost'],
      ips: ['127.0.0.1'],
      uris: ['spiffe://example.com/ns/payments/sa/api'],
    });
    client = await ca.issue('client', { commonName: 'dabba-client', clientAuth: true });
    peers.good = await startHttpsPeer(good);
    peers.wrongName = await startHttpsPeer(await ca.issue('wrong', { dnsNames: ['other.test'] }));
    peers.expired = await startHttpsPeer(
      await ca.issue('expired', {
        dnsNames: ['*.example.com'],
        notBefore: new Date(Date.now() - 48 * 3_600_000),
        notAfter: new Date(Date.now() - 3_600_000),
      }),
    );
    peers.untrusted = await startHttpsPeer(await rogue.issue('rogue-leaf', { dnsNames: ['*.example.com'] }));
    peers.mutual = await startHttpsPeer(good, ca.certPem);
    openssl = await startOpensslPeer(good);
    opensslMutual = await startOpensslPeer(good, ca.certFile);
    for (const name of [
      'https',
      'httpsPort',
      'simple',
      'subset',
      'portLevel',
      'istio',
      'auto',
      'credential',
      'plain',
    ])
      taps[name] = await startWireTap();

    const simple = (extra = '') => `    tls: { mode: SIMPLE, caCertificates: ${ca.certFile}${extra} }\n`;
    folder = await createMeshFolder();
    await folder.write(
      'mesh.yaml',
      [
        // Real peers.
        external('good', 'good.example.com', 443, peers.good.port),
        rule('good', 'good.example.com', simple()),
        external('wrong', 'wrong.example.com', 443, peers.wrongName.port),
        rule('wrong', 'wrong.example.com', simple()),
        external('expired', 'expired.example.com', 443, peers.expired.port),
        rule('expired', 'expired.example.com', simple()),
        external('untrusted', 'untrusted.example.com', 443, peers.untrusted.port),
        rule('untrusted', 'untrusted.example.com', simple()),
        external('insecure', 'insecure.example.com', 443, peers.untrusted.port),
        rule('insecure', 'insecure.example.com', '    tls: { mode: SIMPLE, insecureSkipVerify: true }\n'),
        external('sans', 'sans.example.com', 443, peers.good.port),
        rule(
          'sans',
          'sans.example.com',
          simple(', subjectAltNames: [spiffe://example.com/ns/payments/sa/api]'),
        ),
        external('othersans', 'othersans.example.com', 443, peers.good.port),
        rule(
          'othersans',
          'othersans.example.com',
          simple(', subjectAltNames: [spiffe://example.com/ns/x/sa/y]'),
        ),
        external('patient', 'patient.example.com', 443, peers.good.port),
        rule(
          'patient',
          'patient.example.com',
          `${simple()}    connectionPool: { tcp: { connectTimeout: 600h } }\n`,
        ),
        external('sni', 'sni.example.com', 443, peers.good.port),
        rule('sni', 'sni.example.com', simple(', sni: custom.example.com')),
        external('mutual', 'mutual.example.com', 443, peers.mutual.port),
        rule(
          'mutual',
          'mutual.example.com',
          `    tls: { mode: MUTUAL, caCertificates: ${ca.certFile}, clientCertificate: ${client.certFile}, privateKey: ${client.keyFile} }\n`,
        ),
        external('nocert', 'nocert.example.com', 443, peers.mutual.port),
        rule('nocert', 'nocert.example.com', simple()),
        external('openssl', 'openssl.example.com', 443, openssl.port),
        rule('openssl', 'openssl.example.com', simple()),
        external('opensslmutual', 'opensslmutual.example.com', 443, opensslMutual.port),
        rule(
          'opensslmutual',
          'opensslmutual.example.com',
          `    tls: { mode: MUTUAL, caCertificates: ${ca.certFile}, clientCertificate: ${client.certFile}, privateKey: ${client.keyFile} }\n`,
        ),
        external('missingfile', 'missingfile.example.com', 443, peers.good.port),
        rule(
          'missingfile',
          'missingfile.example.com',
          '    tls: { mode: SIMPLE, caCertificates: /nonexistent/ca.pem }\n',
        ),
        // Wire taps: the issue's own egress entry (an HTTPS port, the application's https://),
        // with a second HTTPS port on a real peer,
        `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: payments }
spec:
  hosts: [localhost]
  location: MESH_EXTERNAL
  resolution: DNS
  ports:
    - { number: ${taps.https!.port}, name: https, protocol: HTTPS }
    - { number: ${peers.good.port}, name: https-good, protocol: HTTPS }
`,
        external('httpsport', 'httpsport.example.com', 443, taps.httpsPort!.port, 'HTTPS'),
        // TLS at each level of a DestinationRule,
        external('simple', 'simple.example.com', 443, taps.simple!.port),
        rule('simple', 'simple.example.com', simple()),
        `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: subset }
spec:
  hosts: [subset.example.com]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: p443, protocol: HTTP, targetPort: ${taps.subset!.port} }]
  endpoints: [{ address: 127.0.0.1, labels: { version: v1 } }]
`,
        `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: subset }
spec:
  host: subset.example.com
  subsets:
    - name: v1
      labels: { version: v1 }
      trafficPolicy: { tls: { mode: SIMPLE } }
`,
        `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: subset }
spec:
  hosts: [subset.example.com]
  http: [{ route: [{ destination: { host: subset.example.com, subset: v1 } }] }]
`,
        external('portlevel', 'portlevel.example.com', 443, taps.portLevel!.port),
        rule(
          'portlevel',
          'portlevel.example.com',
          '    portLevelSettings: [{ port: { number: 443 }, tls: { mode: SIMPLE } }]\n',
        ),
        // what must be refused,
        external('istio', 'istio.example.com', 443, taps.istio!.port),
        rule('istio', 'istio.example.com', '    tls: { mode: ISTIO_MUTUAL }\n'),
        `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: auto }
spec:
  hosts: [auto.mesh.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 443, name: p443, protocol: HTTP, targetPort: ${taps.auto!.port} }]
  endpoints: [{ address: 127.0.0.1, labels: { security.istio.io/tlsMode: istio } }]
`,
        external('credential', 'credential.example.com', 443, taps.credential!.port),
        rule(
          'credential',
          'credential.example.com',
          '    tls: { mode: SIMPLE, credentialName: payments-ca }\n',
        ),
        // and plaintext where nothing asks for TLS.
        external('plain', 'plain.example.com', 443, taps.plain!.port),
      ].join('---\n'),
    );
    mesh = await createMesh({
      workload: { namespace: 'default' },
      config: istioFiles(folder.dir, { watch: false }),
      logger: { error: () => {}, notice: () => {}, warn: (m: string) => notices.push(m) },
    });
  });

  after(async () => {
    await mesh?.destroy();
    await folder?.remove();
    for (const p of Object.values(peers)) await p.close();
    for (const t of Object.values(taps)) await t.close();
    await openssl?.close();
    await opensslMutual?.close();
    await pki?.remove();
  });

  test('SIMPLE with caCertificates: TLS 1.2+ to a Node peer, SNI from the host (auto_sni), the host checked', async () => {
    assert.deepEqual(await get(mesh, 'http://good.example.com:443/v1/charges'), {
      status: 200,
      body: 'tls TLSv1.3',
    });
    const seen = peers.good!.seen.at(-1)!;
    assert.equal(seen.servername, 'good.example.com');
    assert.equal(seen.path, '/v1/charges');
  });

  test('regression: a 600h connectTimeout lets the handshake finish (past the Node timer limit it fired after 1 ms)', async () => {
    assert.deepEqual(await get(mesh, 'http://patient.example.com:443/'), {
      status: 200,
      body: 'tls TLSv1.3',
    });
  });
  test('SIMPLE to openssl s_server (another TLS stack)', async () => {
    const res = await get(mesh, 'http://openssl.example.com:443/');
    assert.equal(res.status, 200);
    assert.match(res.body, /s_server|Ciphers|TLSv1/i);
  });

  test('MUTUAL: the client certificate is presented, to a Node peer and to openssl -Verify', async () => {
    assert.equal((await get(mesh, 'http://mutual.example.com:443/')).status, 200);
    assert.equal(peers.mutual!.seen.at(-1)!.clientCn, 'dabba-client');
    assert.equal((await get(mesh, 'http://opensslmutual.example.com:443/')).status, 200);
  });

  test('a server requiring a client certificate refuses SIMPLE (no certificate): nothing is answered', async () => {
    const before = peers.mutual!.seen.length;
    const err = await failure(mesh, 'http://nocert.example.com:443/');
    // Under TLS 1.3 the server's refusal of the client comes after the client's handshake:
    // a reset (UC) rather than a connection failure (UF), as Envoy sees it too.
    assert.ok(['DABBA_UPSTREAM_CONNECT_FAILURE', 'DABBA_UPSTREAM_RESET'].includes(err.code!), err.message);
    assert.equal(peers.mutual!.seen.length, before);
  });

  for (const [host, code] of [
    ['wrong.example.com', 'ERR_TLS_CERT_ALTNAME_INVALID'],
    ['untrusted.example.com', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
    ['expired.example.com', 'CERT_HAS_EXPIRED'],
    ['othersans.example.com', 'ERR_TLS_CERT_ALTNAME_INVALID'],
  ] as const) {
    test(`a bad server certificate is refused: ${host} (${code})`, async () => {
      const err = await failure(mesh, `http://${host}:443/`);
      assert.equal(err.code, 'DABBA_UPSTREAM_CONNECT_FAILURE');
      assert.equal(err.responseFlag, 'UF');
      assert.equal(err.cause?.code, code, err.message);
    });
  }

  test('subjectAltNames: a URI SAN the certificate carries passes (the host name is not required then)', async () => {
    assert.equal((await get(mesh, 'http://sans.example.com:443/')).status, 200);
  });

  test('an explicit sni is sent and the certificate is checked against it', async () => {
    assert.equal((await get(mesh, 'http://sni.example.com:443/')).status, 200);
    assert.equal(peers.good!.seen.at(-1)!.servername, 'custom.example.com');
  });

  test('insecureSkipVerify accepts a certificate no trusted CA issued (still TLS)', async () => {
    assert.deepEqual(await get(mesh, 'http://insecure.example.com:443/'), {
      status: 200,
      body: 'tls TLSv1.3',
    });
  });

  test('a CA file that cannot be read: DABBA_UPSTREAM_TLS_UNAVAILABLE naming it, nothing sent', async () => {
    const before = peers.good!.seen.length;
    const err = await failure(mesh, 'http://missingfile.example.com:443/');
    assert.equal(err.code, 'DABBA_UPSTREAM_TLS_UNAVAILABLE');
    assert.equal(err.responseFlag, 'UF');
    assert.match(err.message, /\/nonexistent\/ca\.pem.*ENOENT/);
    assert.equal(peers.good!.seen.length, before);
  });

  test("regression: the issue's https:// egress request with a bearer token is TLS on the wire, never plaintext", async () => {
    const tap = taps.https!;
    const err = await failure(mesh, `https://localhost:${tap.port}/v1/charges`);
    assert.equal(err.code, 'DABBA_UPSTREAM_CONNECT_FAILURE');
    assert.ok(tap.connections.length > 0);
    for (const bytes of tap.connections) assert.ok(isTlsClientHello(bytes), bytes.toString('latin1'));
    assert.doesNotMatch(tap.text(), /s3cr3t|charges|HTTP\/1/);
  });

  for (const [name, url] of [
    ['httpsPort', 'http://httpsport.example.com:443/v1/charges'],
    ['simple', 'http://simple.example.com:443/v1/charges'],
    ['subset', 'http://subset.example.com:443/v1/charges'],
    ['portLevel', 'http://portlevel.example.com:443/v1/charges'],
  ] as const) {
    test(`TLS asked for by ${name === 'httpsPort' ? 'an HTTPS port (plain http:// URL)' : `a DestinationRule (${name})`}: only TLS on the wire`, async () => {
      const tap = taps[name]!;
      await failure(mesh, url);
      assert.ok(tap.connections.length > 0, 'a connection was made');
      for (const bytes of tap.connections) assert.ok(isTlsClientHello(bytes), bytes.toString('latin1'));
      assert.doesNotMatch(tap.text(), /s3cr3t|charges/);
    });
  }

  for (const [name, url, code] of [
    ['istio', 'http://istio.example.com:443/', 'DABBA_MTLS_UNAVAILABLE'],
    ['auto', 'http://auto.mesh.internal:443/', 'DABBA_MTLS_UNAVAILABLE'],
    ['credential', 'http://credential.example.com:443/', 'DABBA_UPSTREAM_TLS_UNAVAILABLE'],
  ] as const) {
    test(`refused, not sent in clear: ${name} (${code})`, async () => {
      const err = await failure(mesh, url);
      assert.equal(err.code, code);
      assert.equal(err.responseFlag, 'UF');
      assert.equal(taps[name]!.connections.length, 0, 'no connection at all');
    });
  }

  test('control: with no TLS asked for, http:// is plaintext; https:// to the same endpoint uses its own TLS pool', async () => {
    const tap = taps.plain!;
    await failure(mesh, 'http://plain.example.com:443/v1/charges');
    assert.match(tap.text(), /GET \/v1\/charges HTTP\/1\.1/);
    const plainConnections = tap.connections.length;
    await failure(mesh, 'https://plain.example.com:443/v1/charges');
    const tlsConnections = tap.connections.slice(plainConnections);
    assert.ok(tlsConnections.length > 0);
    for (const bytes of tlsConnections) assert.ok(isTlsClientHello(bytes));
  });

  test('the https:// request verifies the server as an HTTPS client does: untrusted by the system store, trusted with NODE_EXTRA_CA_CERTS', async () => {
    const err = await failure(mesh, `https://localhost:${peers.good!.port}/`);
    assert.equal(err.cause?.code, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    // A process that trusts the test CA (as an application would with its own CA): it succeeds.
    const script = `
      import { createMesh } from '@dabba/client';
      import { istioFiles } from '@dabba/discovery';
      import { request } from 'undici';
      const mesh = await createMesh({ config: istioFiles(${JSON.stringify(folder.dir)}, { watch: false }), logger: null });
      const res = await request('https://localhost:${peers.good!.port}/', { dispatcher: mesh });
      process.stdout.write(res.statusCode + ' ' + (await res.body.text()));
      await mesh.close();
    `;
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--conditions=dabba-source', '--input-type=module', '-e', script],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: ca.certFile }, cwd: import.meta.dirname },
    );
    assert.equal(stdout, '200 tls TLSv1.3');
  });

  test('ISTIO_MUTUAL, credentialName and auto mTLS are warned about when the configuration is read, once each', () => {
    assert.ok(
      notices.some((n) => /DestinationRule\/default\/istio .*ISTIO_MUTUAL/.test(n)),
      notices.join('\n'),
    );
    assert.ok(notices.some((n) => /DestinationRule\/default\/credential .*credentialName/.test(n)));
    assert.ok(notices.some((n) => /ServiceEntry\/default\/auto .*auto mTLS/.test(n)));
    assert.equal(new Set(notices).size, notices.length);
  });
});
