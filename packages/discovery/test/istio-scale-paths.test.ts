/**
 * The paths that make a large mesh cheap to apply: the fast YAML path (same resources as the
 * precise one, exact lines for bad files), the per-file parse cache, translation and snapshot
 * run as steps (sliced runs give the same result and give the event loop turns), and endpoint
 * messages shared between the clusters of a translation.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { collectResources } from '../src/istio/collect-resources.ts';
import { createParseCache, parseCachedInTurns } from '../src/istio/parse-cache.ts';
import {
  type ParsedYaml,
  parseIstioYaml,
  parseIstioYamlFast,
  parseIstioYamlPrecise,
} from '../src/istio/parse-istio-yaml.ts';
import { translateIstio, translateIstioSteps } from '../src/istio/translate.ts';
import { createSnapshot, createSnapshotSteps } from '../src/snapshot.ts';
import { runStepsSliced } from '../src/steps.ts';
import { resolveWorkload } from '../src/workload.ts';
import { REVIEWS } from './fixtures/istio-helpers.ts';

type Parse = (source: string, text: string, defaultNamespace: string) => ParsedYaml | undefined;

/** What a parse result says, with each resource's origin reduced to its line. */
const comparable = (parsed: ParsedYaml | undefined) =>
  parsed && {
    issues: parsed.issues,
    notices: parsed.notices,
    resources: parsed.resources.map(({ origin, ...r }) => ({ ...r, line: origin.line })),
  };

const withoutOrigin = (text: string, parse: Parse) => comparable(parse('f.yaml', text, 'default'));

const WE = (labels: string, extra = '') => `apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: w }
spec:
  address: 10.0.0.1
  labels: ${labels}
${extra}`;

describe('fast YAML path', () => {
  // Plain scalars must resolve as `yaml`'s YAML 1.2 core schema resolves them.
  for (const [name, text] of [
    ['quoted and plain strings', WE(`{ a: "1", b: 'true', c: v1, d: "0o17" }`)],
    ['block scalars', WE('\n    a: |\n      x\n    b: >-\n      y\n      z')],
    ['integer forms', `${WE('{ a: x }')}  weight: 0x1F\n`],
    ['octal integer', `${WE('{ a: x }')}  weight: 0o17\n`],
    ['signed integer', `${WE('{ a: x }')}  weight: +12\n`],
    ['comments and a trailing ---', `# head\n${WE('{ a: x }')}# tail\n---\n`],
  ] as const) {
    it(`gives the precise path's resources: ${name}`, () => {
      const fast = withoutOrigin(text, parseIstioYamlFast);
      assert.ok(fast, 'the fast path takes a valid file');
      assert.deepEqual(fast, withoutOrigin(text, parseIstioYamlPrecise));
    });
  }

  for (const [name, text] of [
    ['a syntax error', `${WE('{ a: x }')}  ports: [\n`],
    ['a duplicate key', WE('{ a: x, a: y }')],
    [
      'an alias',
      'apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata: { name: w, labels: &l { a: x } }\nspec: { address: 10.0.0.1, labels: *l }\n',
    ],
    ['a custom tag', WE('!thing { a: x }')],
    ['an unknown field', `${WE('{ a: x }')}  colour: blue\n`],
    ['an unknown kind', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c }\n'],
    ['a scalar document', 'just text\n'],
  ] as const) {
    it(`declines ${name}, so the precise path reads it (reporting any problem with its line)`, () => {
      assert.equal(parseIstioYamlFast('f.yaml', text, 'default'), undefined);
      const r = parseIstioYaml('f.yaml', text);
      assert.deepEqual(comparable(r), withoutOrigin(text, parseIstioYamlPrecise));
      for (const i of [...r.issues, ...r.notices]) assert.equal(typeof i.line, 'number');
    });
  }

  it('reports the exact line of a field error in the third document of a file', () => {
    const text = `${REVIEWS}---\n${WE('{ a: x }')}  colour: blue\n`;
    const r = parseIstioYaml('f.yaml', text);
    assert.equal(r.issues.length, 1);
    // An unknown field is reported on its mapping (`spec`), whose first line is the address.
    const lines = text.split('\n');
    assert.equal(r.issues[0]!.path, 'spec');
    assert.equal(r.issues[0]!.line, lines.lastIndexOf('  address: 10.0.0.1') + 1);
  });

  it('computes the lines of fast-parsed resources on demand, as the precise path does', () => {
    const text = `${REVIEWS}---\n${WE('{ a: x }')}`;
    const fast = parseIstioYamlFast('f.yaml', text, 'default')!;
    const precise = parseIstioYamlPrecise('f.yaml', text, 'default');
    assert.deepEqual(
      fast.resources.map((r) => [r.origin.line, r.origin.locate(['spec', 'address'])]),
      precise.resources.map((r) => [r.origin.line, r.origin.locate(['spec', 'address'])]),
    );
    // A resource declared twice names the first place by its line.
    const issues: Parameters<typeof collectResources>[1] = [];
    collectResources([...fast.resources, ...fast.resources.slice(-1)], issues);
    assert.match(
      issues[0]!.message,
      new RegExp(`already declared at f\\.yaml:${precise.resources.at(-1)!.origin.line}$`),
    );
  });
});

describe('parse cache', () => {
  it('reuses a file whose content is unchanged and re-parses one that changed', async () => {
    const cache = createParseCache();
    const parseCached = (c: typeof cache, file: string, shown: string, text: string, ns: undefined) =>
      parseCachedInTurns(c, file, shown, text, { defaultNamespace: ns }, () => undefined, undefined);
    const first = await parseCached(cache, '/m/a.yaml', 'a.yaml', REVIEWS, undefined);
    assert.equal(cache.parsedLastLoad, 1);
    const again = await parseCached(cache, '/m/a.yaml', 'a.yaml', REVIEWS, undefined);
    assert.equal(again.parsed, first.parsed, 'same content: same parse result');
    assert.equal(cache.parsedLastLoad, 1);
    const edited = await parseCached(cache, '/m/a.yaml', 'a.yaml', `${REVIEWS}# edit\n`, undefined);
    assert.notEqual(edited.parsed, first.parsed);
    assert.notEqual(edited.digest, first.digest);
    assert.equal(cache.parsedLastLoad, 2);
    // The same text under another shown name is parsed again: issues name the file.
    await parseCached(cache, '/m/a.yaml', 'other/a.yaml', `${REVIEWS}# edit\n`, undefined);
    assert.equal(cache.parsedLastLoad, 3);
  });
});

/** `count` services like the benchmark's: a ServiceEntry, workloads in two versions, subsets. */
function meshYaml(count: number): string {
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    docs.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: s${i} }
spec:
  hosts: [s${i}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: s${i} } }`);
    for (let j = 0; j < 4; j++) {
      docs.push(`apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: s${i}-${j} }
spec: { address: 10.1.${i}.${j + 1}, labels: { app: s${i}, version: v${(j % 2) + 1} } }`);
    }
    docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: s${i} }
spec:
  host: s${i}
  subsets: [{ name: v1, labels: { version: v1 } }, { name: v2, labels: { version: v2 } }]`);
  }
  return docs.join('\n---\n');
}

describe('translation and snapshot as steps', () => {
  const parsed = parseIstioYaml('mesh.yaml', meshYaml(60));
  const set = collectResources(parsed.resources, []);
  const workload = resolveWorkload();

  it('a sliced run gives the same resources as the synchronous one, and gives the loop turns', async () => {
    let turns = 0;
    const counter = setInterval(() => turns++, 0);
    try {
      // A zero slice takes a turn at every step.
      const pause = () => new Promise<void>((resolve) => setImmediate(resolve));
      const sliced = await runStepsSliced(translateIstioSteps(set, workload), pause);
      assert.deepEqual(sliced, translateIstio(set, workload));
      const snapshot = await runStepsSliced(createSnapshotSteps('1', 't', sliced.resources), pause);
      assert.deepEqual(snapshot, createSnapshot('1', 't', translateIstio(set, workload).resources));
      assert.ok(Object.isFrozen(snapshot.clusters.get('outbound|8080||s0.default.svc.cluster.local')));
    } finally {
      clearInterval(counter);
    }
    assert.ok(turns > 0, 'timers ran while it translated');
  });

  it('an endpoint is one shared message in the default and the subset cluster, with its labels', () => {
    const { resources } = translateIstio(set, workload);
    const endpointsOf = (name: string) =>
      resources.endpoints.find((e) => e.clusterName === name)!.endpoints.flatMap((g) => g.lbEndpoints);
    const all = endpointsOf('outbound|8080||s3.default.svc.cluster.local');
    const v2 = endpointsOf('outbound|8080|v2|s3.default.svc.cluster.local');
    assert.equal(all.length, 4);
    assert.equal(v2.length, 2);
    for (const ep of v2) assert.ok(all.includes(ep), 'the subset cluster reuses the message');
    assert.deepEqual(v2[0]!.metadata?.filterMetadata.dabba, { labels: { app: 's3', version: 'v2' } });
  });
});
