/**
 * End to end: HTTP/2 to upstreams that speak cleartext HTTP/2 (h2c, prior knowledge).
 *
 * Pins: Istio ConnectionPoolSettings.HTTPSettings.h2UpgradePolicy UPGRADE ("upgrade the connection
 * to http2", istio.io/latest/docs/reference/config/networking/destination-rule/
 * #ConnectionPoolSettings-HTTPSettings-H2UpgradePolicy) and "Protocol Selection" (a port named or
 * declared HTTP2 speaks HTTP/2 upstream: istio.io/latest/docs/ops/configuration/traffic-management/
 * protocol-selection/), translated to Envoy's explicit http2_protocol_options.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { type H2cUpstream, startH2cUpstream } from '../support/h2c-upstream.ts';
import { createMeshFolder, type MeshFolder, serviceYaml } from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

describe('HTTP/2 upstreams', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  let h2: H2cUpstream;
  let h1: Upstream;

  before(async () => {
    h2 = await startH2cUpstream('h2');
    h1 = await startUpstream('h1', (req, res) => res.end(JSON.stringify({ httpVersion: req.httpVersion })));
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      [
        serviceYaml('upgraded', 9080, [{ name: 'upgraded-1', port: h2.port, labels: {} }]),
        serviceYaml('grpcish', 9090, [{ name: 'grpcish-1', port: h2.port, labels: {} }], 'default', 'HTTP2'),
        serviceYaml('plain', 9080, [{ name: 'plain-1', port: h1.port, labels: {} }]),
      ].join('---\n'),
    );
    await folder.write(
      'rule.yaml',
      `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: upgraded }
spec:
  host: upgraded
  trafficPolicy:
    connectionPool:
      http: { h2UpgradePolicy: UPGRADE }
`,
    );
    mesh = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
  });

  after(async () => {
    await mesh?.close();
    await h2?.close();
    await h1?.close();
    await folder?.remove();
  });

  test('h2UpgradePolicy: UPGRADE -> the request arrives over HTTP/2 (req.httpVersion 2.0)', async () => {
    const res = await request('http://upgraded:9080/x', { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { upstream: 'h2', httpVersion: '2.0' });
  });

  test('a port with protocol HTTP2 -> HTTP/2 without any DestinationRule', async () => {
    const res = await request('http://grpcish:9090/x', { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(await res.body.json(), { upstream: 'h2', httpVersion: '2.0' });
  });

  test('control: an HTTP port without the upgrade speaks HTTP/1.1', async () => {
    const res = await request('http://plain:9080/x', { dispatcher: mesh });
    assert.deepEqual(await res.body.json(), { httpVersion: '1.1' });
  });
});
