/**
 * Splitting a YAML stream at its document markers (YAML 1.2 spec 9.1.4 and 9.2) so documents
 * can be parsed one at a time: the split parse must give the same resources and the same issue
 * lines as one parse of the whole stream.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseIstioYaml, parseIstioYamlPrecise } from '../src/istio/parse-istio-yaml.ts';
import { splitYamlDocuments } from '../src/istio/split-yaml-documents.ts';

const VS = (name: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${name} }
spec:
  hosts: [${name}]${extra}
  http:
    - route: [{ destination: { host: ${name} } }]
`;

describe('splitYamlDocuments', () => {
  it('splits at --- lines (followed by a space, a tab, CR LF or the end) and counts lines before each chunk', () => {
    const text = 'a: 1\n---\nb: 2\n--- # c\nc: 3\n---\t\nd: 4\r\n---\r\ne: 5\n---';
    const chunks = splitYamlDocuments(text);
    assert.deepEqual(
      chunks.map((c) => [c.lineOffset, c.text]),
      [
        [0, 'a: 1\n'],
        [1, '---\nb: 2\n'],
        [3, '--- # c\nc: 3\n'],
        [5, '---\t\nd: 4\r\n'],
        [7, '---\r\ne: 5\n'],
        [9, '---'],
      ],
    );
    assert.equal(chunks.map((c) => c.text).join(''), text, 'nothing lost or added');
  });

  it('does not split at ---x, at indented ---, nor a stream with directives', () => {
    assert.equal(splitYamlDocuments('a: |\n  ---\n---x: 1\n').length, 1);
    assert.equal(splitYamlDocuments('%YAML 1.2\n---\na: 1\n...\n%YAML 1.2\n---\nb: 2\n').length, 1);
  });

  it('a --- line ends a block scalar, as the spec says: split and whole parses agree', () => {
    const withScalar = VS('a').replace(
      'metadata: { name: a }',
      'metadata:\n  name: a\n  annotations:\n    note: |\n      one\n      two',
    );
    const text = `${withScalar}---\n${VS('b')}`;
    const whole = parseIstioYamlPrecise('f.yaml', text, 'default');
    const split = parseIstioYaml('f.yaml', text);
    assert.equal(splitYamlDocuments(text).length, 2);
    assert.deepEqual(whole.issues, []);
    assert.deepEqual(
      split.resources.map((r) => [r.name, r.origin.line]),
      whole.resources.map((r) => [r.name, r.origin.line]),
    );
  });

  it('issues of a split parse carry the lines a whole parse gives', () => {
    const text = [
      VS('ok'),
      VS('bad-field', '\n  nope: 1'),
      'kind: [unclosed\n',
      VS('bad-weight').replace('host: bad-weight }', 'host: bad-weight }, weight: -1'),
    ].join('---\n');
    const whole = parseIstioYamlPrecise('f.yaml', text, 'default');
    const split = parseIstioYaml('f.yaml', text);
    const lines = (r: { issues: readonly { line?: number | undefined; path: string }[] }) =>
      r.issues.map((i) => `${i.line}:${i.path}`);
    assert.ok(whole.issues.length >= 3);
    assert.deepEqual(lines(split), lines(whole));
    // Lazily located lines of fast-parsed resources are right too.
    assert.deepEqual(
      split.resources.map((r) => r.origin.line),
      whole.resources.map((r) => r.origin.line),
    );
  });
});
