/**
 * parseIstioYaml: multi-document files, kinds and versions, and issues that point at the file,
 * line, resource and field path (DESIGN.md "Errors"; Istio's CRDs networking.istio.io v1,
 * v1beta1 and v1alpha3 share one schema, istio.io/latest/docs/reference/config/networking/).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIstioYaml } from '../src/istio/parse-istio-yaml.ts';

const VS = (apiVersion: string, name = 'reviews') => `apiVersion: ${apiVersion}
kind: VirtualService
metadata:
  name: ${name}
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews }
`;

describe('parseIstioYaml', () => {
  it('reads every document of a multi-document file, each remembering its first line', () => {
    const text = `${VS('networking.istio.io/v1', 'a')}---\n${VS('networking.istio.io/v1', 'b')}`;
    const r = parseIstioYaml('f.yaml', text);
    assert.deepEqual(r.issues, []);
    assert.deepEqual(
      r.resources.map((x) => [x.name, x.origin.line]),
      [
        ['a', 1],
        ['b', 11],
      ],
    );
  });

  it('skips empty documents (a leading or trailing ---)', () => {
    const r = parseIstioYaml('f.yaml', `---\n${VS('networking.istio.io/v1')}---\n`);
    assert.deepEqual(r.issues, []);
    assert.equal(r.resources.length, 1);
  });

  for (const apiVersion of [
    'networking.istio.io/v1',
    'networking.istio.io/v1beta1',
    'networking.istio.io/v1alpha3',
  ]) {
    it(`accepts ${apiVersion} (Istio serves all three versions of the networking CRDs)`, () => {
      const r = parseIstioYaml('f.yaml', VS(apiVersion));
      assert.deepEqual(r.issues, []);
      assert.equal(r.resources[0]?.apiVersion, apiVersion);
    });
  }

  it('skips an unknown kind with a notice naming it, and still reads the others', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: istio-system }
spec: {}
---
${VS('networking.istio.io/v1')}`;
    const r = parseIstioYaml('f.yaml', text);
    assert.deepEqual(r.issues, []);
    assert.equal(r.resources.length, 1);
    assert.equal(r.notices.length, 1);
    assert.deepEqual(r.notices[0]?.resource, { kind: 'Gateway', namespace: 'istio-system', name: 'gw' });
    assert.equal(r.notices[0]?.line, 1);
    assert.match(r.notices[0]!.message, /Gateway/);
  });

  it('skips a known kind of another API group (apps/v1 VirtualService is not Istio)', () => {
    const r = parseIstioYaml('f.yaml', VS('example.com/v1'));
    assert.equal(r.resources.length, 0);
    assert.equal(r.notices.length, 1);
  });

  it('gives a resource without metadata.namespace the default namespace, or the one asked for', () => {
    assert.equal(parseIstioYaml('f.yaml', VS('networking.istio.io/v1')).resources[0]?.namespace, 'default');
    const r = parseIstioYaml('f.yaml', VS('networking.istio.io/v1'), { defaultNamespace: 'shop' });
    assert.equal(r.resources[0]?.namespace, 'shop');
  });

  it('keeps an explicit metadata.namespace', () => {
    const r = parseIstioYaml(
      'f.yaml',
      VS('networking.istio.io/v1').replace('name: reviews', 'name: reviews\n  namespace: prod'),
    );
    assert.equal(r.resources[0]?.namespace, 'prod');
  });

  it('reports malformed YAML with the line of the error', () => {
    const text = `${VS('networking.istio.io/v1')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: broken
spec:
  hosts: [reviews
`;
    const r = parseIstioYaml('bad.yaml', text);
    assert.ok(r.issues.length >= 1);
    const issue = r.issues[0]!;
    assert.equal(issue.source, 'bad.yaml');
    assert.match(issue.message, /YAML syntax/);
    // The unclosed flow sequence starts on line 16 of the file; the parser reports it there or
    // at the end of input, never in the first (valid) document.
    assert.ok(issue.line !== undefined && issue.line >= 16, `line ${issue.line}`);
  });

  it('reports a duplicate key as a YAML error on its line', () => {
    const text = 'apiVersion: networking.istio.io/v1\nkind: VirtualService\nkind: VirtualService\n';
    const r = parseIstioYaml('dup.yaml', text);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]?.line, 3);
  });

  it('reports a wrong type with the field path and the line of the value', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  hosts: [reviews]
  http:
    - route:
        - destination: { host: reviews, subset: v1 }
          weight: 90
        - destination: { host: reviews, subset: v2 }
          weight: "ten"
`;
    const r = parseIstioYaml('vs.yaml', text);
    assert.equal(r.resources.length, 0);
    assert.equal(r.issues.length, 1);
    const issue = r.issues[0]!;
    assert.equal(issue.path, 'spec.http[0].route[1].weight');
    assert.equal(issue.line, 12);
    assert.equal(issue.source, 'vs.yaml');
    assert.deepEqual(issue.resource, { kind: 'VirtualService', namespace: 'default', name: 'reviews' });
  });

  it('reports an unknown field by name and path (strict schema, like kubectl field validation)', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: reviews
spec:
  host: reviews
  trafficPolicy:
    loadBalancer:
      simpel: ROUND_ROBIN
`;
    const r = parseIstioYaml('dr.yaml', text);
    assert.equal(r.issues.length, 1);
    assert.match(r.issues[0]!.message, /unknown field "simpel"/);
    assert.equal(r.issues[0]!.path, 'spec.trafficPolicy.loadBalancer');
    assert.equal(r.issues[0]!.line, 9);
  });

  it('reports a missing kind or apiVersion and a document that is not a mapping', () => {
    const r = parseIstioYaml(
      'f.yaml',
      'apiVersion: networking.istio.io/v1\nmetadata: { name: x }\n---\n- 1\n',
    );
    assert.deepEqual(
      r.issues.map((i) => [i.path, i.line]),
      [
        ['kind', 1],
        ['', 4],
      ],
    );
  });

  it('reports a missing metadata.name', () => {
    const r = parseIstioYaml(
      'f.yaml',
      VS('networking.istio.io/v1').replace('  name: reviews\n', '  labels: {}\n'),
    );
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]?.path, 'metadata.name');
  });

  it('reports an invalid duration with its path', () => {
    const text = VS('networking.istio.io/v1').replace(
      '    - route:',
      '    - timeout: 5 seconds\n      route:',
    );
    const r = parseIstioYaml('f.yaml', text);
    assert.equal(r.issues.length, 1);
    assert.equal(r.issues[0]?.path, 'spec.http[0].timeout');
    assert.equal(r.issues[0]?.line, 8);
  });

  it('reports every problem of a file together, across documents', () => {
    const bad = (n: string) =>
      VS('networking.istio.io/v1', n).replace('host: reviews }', 'host: reviews }\n          weight: -1');
    const r = parseIstioYaml('f.yaml', `${bad('a')}---\n${bad('b')}`);
    assert.deepEqual(
      r.issues.map((i) => i.resource?.name),
      ['a', 'b'],
    );
  });
});

it('an alias to an anchor of another document is an issue naming the file and line, not a crash', () => {
  const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: a }
spec:
  hosts: &h [reviews]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: b }
spec:
  hosts: *h
`;
  const result = parseIstioYaml('aliases.yaml', text);
  assert.equal(result.issues.length, 1);
  assert.equal(result.issues[0]?.source, 'aliases.yaml');
  assert.equal(result.issues[0]?.line, 7);
  assert.match(result.issues[0]?.message ?? '', /alias/i);
});
