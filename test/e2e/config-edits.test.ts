/**
 * End to end: editing the watched Istio YAML while traffic flows. A bad edit is rejected with a
 * ConfigError naming the file, line, resource and field; the last good snapshot keeps serving; a
 * fixed file is picked up again.
 *
 * Pins: DESIGN.md "Errors" (configuration errors name the source, the resource and the field path,
 * and never replace a good snapshot with a bad one), Istio's own validation of these fields
 * (VirtualService HTTPRouteDestination.weight is an int32, a subset must be defined in a
 * DestinationRule, regexes are RE2: istio.io/latest/docs/reference/config/networking/virtual-service/),
 * and Envoy's last-good behaviour on a rejected update (xDS NACK keeps the previous config).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type ConfigError, createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

const RULE = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews, namespace: default }
spec:
  host: reviews
  subsets:
    - { name: v1, labels: { version: v1 } }
    - { name: v2, labels: { version: v2 } }
`;

/** A VirtualService whose line 10 is the destination, line 11 the weight, line 8 the match. */
const vs = (
  opts: { subset?: string; weight?: string; regex?: string } = {},
) => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: default
spec:
  hosts: [reviews]
  http:
    - match: [{ uri: { regex: "${opts.regex ?? '/.*'}" } }]
      route:
        - destination: { host: reviews, subset: ${opts.subset ?? 'v2'} }
          weight: ${opts.weight ?? '100'}
`;

describe('config edits while serving', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const upstreams: Upstream[] = [];
  const errors: ConfigError[] = [];

  const where = async () => {
    const res = await request('http://reviews:9080/', { dispatcher: mesh });
    assert.equal(res.statusCode, 200);
    return ((await res.body.json()) as { upstream: string }).upstream;
  };

  /** Writes `text` to reviews-vs.yaml and returns the configError it causes. */
  const reject = async (text: string): Promise<ConfigError> => {
    const version = mesh.snapshot?.version;
    const seen = errors.length;
    await folder.write('reviews-vs.yaml', text);
    await waitFor(() => errors.length > seen, 5000, 'a configError');
    assert.equal(mesh.snapshot?.version, version, 'the snapshot must not change');
    assert.equal(await where(), 'v2', 'traffic keeps flowing on the last good snapshot');
    return errors.at(-1)!;
  };

  before(async () => {
    upstreams.push(await startUpstream('v1'), await startUpstream('v2'));
    folder = await createMeshFolder();
    await folder.write(
      'services.yaml',
      serviceYaml('reviews', 9080, [
        { name: 'r1', port: upstreams[0]!.port, labels: { version: 'v1' } },
        { name: 'r2', port: upstreams[1]!.port, labels: { version: 'v2' } },
      ]),
    );
    await folder.write('rule.yaml', RULE);
    await folder.write('reviews-vs.yaml', vs());
    mesh = await createMesh({ config: istioFiles(folder.dir, { debounceMs: 20 }), logger: null });
    mesh.on('configError', (e) => errors.push(e));
  });

  after(async () => {
    await mesh?.close();
    for (const u of upstreams) await u.close();
    await folder?.remove();
  });

  test('YAML syntax error: file and line 8, kept serving', async () => {
    const err = await reject(vs().replace('  hosts: [reviews]', '  hosts: [reviews'));
    assert.equal(err.code, 'DABBA_CONFIG_INVALID');
    const issue = err.issues[0]!;
    assert.match(issue.source, /reviews-vs\.yaml$/);
    // The `[` opened on line 7 is unterminated; the parser reports it on line 8, where it finds
    // the next block entry (the resource is unknown: the document did not parse).
    assert.equal(issue.line, 8);
    assert.equal(issue.resource, undefined);
    assert.match(issue.message, /^YAML syntax: /);
  });

  test('wrong type (weight: "ten"): file, line 12, VirtualService default/reviews, spec.http[0].route[0].weight', async () => {
    const err = await reject(vs({ weight: '"ten"' }));
    const issue = err.issues[0]!;
    assert.match(issue.source, /reviews-vs\.yaml$/);
    assert.equal(issue.line, 12);
    assert.deepEqual(issue.resource, { kind: 'VirtualService', namespace: 'default', name: 'reviews' });
    assert.equal(issue.path, 'spec.http[0].route[0].weight');
  });

  test('unknown subset: line 11, spec.http[0].route[0].destination', async () => {
    const err = await reject(vs({ subset: 'v9' }));
    const issue = err.issues[0]!;
    assert.match(issue.source, /reviews-vs\.yaml$/);
    assert.equal(issue.line, 11);
    assert.deepEqual(issue.resource, { kind: 'VirtualService', namespace: 'default', name: 'reviews' });
    assert.equal(issue.path, 'spec.http[0].route[0].destination');
  });

  test('bad regex (not RE2): line 9, spec.http[0].match[0].uri.regex', async () => {
    const err = await reject(vs({ regex: '/(?<=a)b' }));
    const issue = err.issues[0]!;
    assert.match(issue.source, /reviews-vs\.yaml$/);
    assert.equal(issue.line, 9);
    assert.deepEqual(issue.resource, { kind: 'VirtualService', namespace: 'default', name: 'reviews' });
    assert.equal(issue.path, 'spec.http[0].match[0].uri.regex');
  });

  test('fixing the file restores updates: traffic moves to v1', async () => {
    await folder.write('reviews-vs.yaml', vs({ subset: 'v1' }));
    await waitFor(async () => (await where()) === 'v1', 5000, 'traffic to move to v1');
  });
});
