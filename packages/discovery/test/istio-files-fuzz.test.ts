/**
 * Fuzzing the configuration loader: malformed YAML, alias bombs, huge and deeply nested
 * documents, random bytes and random mutations of a valid mesh. Every input must end in either
 * a snapshot or a typed ConfigError, never a crash and never a hang: each parse stays under a
 * stated bound (PARSE_BOUND_MS), and through a watched folder each input is answered within
 * ANSWER_BOUND_MS with the previous snapshot kept whenever the input is refused. Seeded, so a
 * failure names the case that reproduces it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../src/errors.ts';
import { collectResources } from '../src/istio/collect-resources.ts';
import { istioFiles } from '../src/istio/istio-files.ts';
import { parseIstioYaml } from '../src/istio/parse-istio-yaml.ts';
import { translateIstio } from '../src/istio/translate.ts';
import { createSnapshot, type Snapshot } from '../src/snapshot.ts';
import { resolveWorkload } from '../src/workload.ts';
import { REVIEWS } from './fixtures/istio-helpers.ts';

/** The stated bounds: one file's parse and translation, and a watched folder's answer. */
const PARSE_BOUND_MS = 3000;
const ANSWER_BOUND_MS = 8000;

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

const VALID = `${REVIEWS}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
      retries: { attempts: 3, perTryTimeout: 2s }
    - route:
        - { destination: { host: reviews, subset: v1 }, weight: 80 }
        - { destination: { host: reviews, subset: v3 }, weight: 20 }
`;

const TOKENS = [
  ':',
  ': ',
  '- ',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&a ',
  '*a',
  '!!binary ',
  '!!js/function ',
  '%YAML 1.2\n',
  '---\n',
  '...\n',
  '\t',
  '"',
  "'",
  '|',
  '>',
  '#',
  '\u0000',
  '\ufeff',
  '\n',
  '  ',
  '? ',
  '<<: *a\n',
  'weight: 4294967296',
  'timeout: 0s',
  'host: "*"',
  'hosts: ["bad host"]',
  '\r\n',
  '\u2028',
];

function mutate(text: string, random: () => number): string {
  let out = text;
  const edits = 1 + Math.floor(random() * 6);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (out.length + 1));
    switch (Math.floor(random() * 4)) {
      case 0:
        out = out.slice(0, at) + TOKENS[Math.floor(random() * TOKENS.length)] + out.slice(at);
        break;
      case 1:
        out = out.slice(0, at) + out.slice(at + Math.floor(random() * 40));
        break;
      case 2: {
        const len = Math.floor(random() * 60);
        out = out.slice(0, at) + out.slice(at, at + len) + out.slice(at);
        break;
      }
      default:
        out = out.slice(0, at) + String.fromCharCode(Math.floor(random() * 128)) + out.slice(at + 1);
    }
  }
  return out;
}

function randomBytes(random: () => number): Buffer {
  const bytes = Buffer.alloc(Math.floor(random() * 4096));
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

const BOMB = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
`;

/** Hand-made hostile inputs, each a known way to make a YAML parser crash, hang or explode. */
const HOSTILE: readonly (readonly [string, string | Buffer])[] = [
  ['billion laughs', BOMB],
  [
    'billion laughs in an Istio spec',
    `${VALID}---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: { name: bomb }\nspec:\n  hosts: [bomb]\n  x: &x [1,1,1,1,1,1,1,1,1,1]\n  y: [*x,*x,*x,*x,*x,*x,*x,*x,*x,*x]\n`,
  ],
  ['flow nesting 100,000 deep', `a: ${'['.repeat(100_000)}${']'.repeat(100_000)}`],
  [
    'flow nesting inside a spec',
    `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: x}\nspec: {hosts: [a], http: ${'['.repeat(50_000)}${']'.repeat(50_000)}}`,
  ],
  ['block nesting 3,000 deep', Array.from({ length: 3000 }, (_, i) => `${' '.repeat(i)}k:`).join('\n')],
  ['50,000 keys in one map', Array.from({ length: 50_000 }, (_, i) => `k${i}: v`).join('\n')],
  [
    'a duplicate among 50,000 keys',
    `${Array.from({ length: 50_000 }, (_, i) => `k${i}: v`).join('\n')}\nk7: again\n`,
  ],
  ['100,000 flow items', `a: [${Array.from({ length: 100_000 }, (_, i) => i).join(',')}]`],
  ['a 1.4 MB scalar', `a: "${'x'.repeat(1_400_000)}"`],
  ['a document over the size limit', `a: "${'x'.repeat(2_000_000)}"`],
  ['20,000 empty documents', '---\n'.repeat(20_000)],
  ['NUL bytes', `apiVersion: networking.istio.io/v1\u0000\nkind: \u0000\n`],
  ['a lone surrogate and BOMs', '\ufeffa: "\ud800"\n\ufeff---\n\ufeffb: 1\n'],
  ['invalid UTF-8', Buffer.from([0x61, 0x3a, 0x20, 0xff, 0xfe, 0x0a])],
  ['unknown tags', '!!python/object:os.system\na: !!js/regexp /x/\n'],
  ['an anchor to another document', 'a: &x 1\n---\nb: *x\n'],
  ['only directives', '%YAML 1.2\n%TAG ! tag:x,2000:\n'],
  ['CR line endings only', VALID.replaceAll('\n', '\r')],
];

function pipeline(source: string, text: string): { snapshot?: Snapshot; error?: ConfigError } {
  const parsed = parseIstioYaml(source, text);
  const issues = [...parsed.issues];
  const set = collectResources(parsed.resources, issues);
  if (issues.length > 0) return { error: new ConfigError(issues) };
  const result = translateIstio(set, resolveWorkload());
  if (result.issues.length > 0) return { error: new ConfigError(result.issues) };
  try {
    return { snapshot: createSnapshot('1', source, result.resources) };
  } catch (err) {
    if (err instanceof ConfigError) return { error: err };
    throw err;
  }
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('fuzzing the config loader', () => {
  it(`hostile inputs: a typed outcome each, every parse under ${PARSE_BOUND_MS} ms`, () => {
    for (const [name, input] of HOSTILE) {
      const text = typeof input === 'string' ? input : input.toString('utf8');
      const started = performance.now();
      let outcome: ReturnType<typeof pipeline>;
      try {
        outcome = pipeline('f.yaml', text);
      } catch (err) {
        assert.fail(`${name}: threw ${(err as Error).stack}`);
      }
      const ms = performance.now() - started;
      assert.ok(ms < PARSE_BOUND_MS, `${name}: ${ms.toFixed(0)} ms`);
      assert.ok(outcome.snapshot !== undefined || outcome.error instanceof ConfigError, name);
      for (const issue of outcome.error?.issues ?? []) {
        assert.equal(typeof issue.message, 'string', name);
        assert.equal(issue.source, 'f.yaml', name);
      }
    }
  });

  it(`2,000 seeded random mutations and byte strings: never a throw, each under ${PARSE_BOUND_MS} ms`, () => {
    const random = mulberry32(0xdabba);
    let snapshots = 0;
    let errors = 0;
    for (let n = 0; n < 2000; n++) {
      const text = n % 5 === 0 ? randomBytes(random).toString('latin1') : mutate(VALID, random);
      const started = performance.now();
      let outcome: ReturnType<typeof pipeline>;
      try {
        outcome = pipeline('f.yaml', text);
      } catch (err) {
        assert.fail(`case ${n} threw: ${(err as Error).stack}\n--- input ---\n${JSON.stringify(text)}`);
      }
      assert.ok(performance.now() - started < PARSE_BOUND_MS, `case ${n}`);
      if (outcome.snapshot) snapshots++;
      else {
        assert.ok(outcome.error instanceof ConfigError, `case ${n}`);
        errors++;
      }
    }
    // The mutations must exercise both outcomes, or the fuzzer tests nothing.
    assert.ok(snapshots > 20 && errors > 500, `${snapshots} snapshots, ${errors} errors`);
  });

  it(`through a watched folder: each input answered within ${ANSWER_BOUND_MS} ms, refused ones keep the last good snapshot`, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dabba-fuzz-'));
    dirs.push(dir);
    const file = path.join(dir, 'mesh.yaml');
    await writeFile(file, VALID);
    const events: ({ kind: 'snapshot'; snapshot: Snapshot } | { kind: 'error'; error: unknown })[] = [];
    const sub = istioFiles(dir, { debounceMs: 5 }).subscribe(resolveWorkload(), {
      onSnapshot: (snapshot) => events.push({ kind: 'snapshot', snapshot }),
      onError: (error) => events.push({ kind: 'error', error }),
      onNotice: () => {},
    });
    const answered = async (before: number, what: string) => {
      const deadline = Date.now() + ANSWER_BOUND_MS;
      while (events.length === before) {
        if (Date.now() > deadline) assert.fail(`no answer to ${what}`);
        await sleep(5);
      }
    };
    try {
      await answered(0, 'the first load');
      let good = events.at(-1);
      assert.equal(good?.kind, 'snapshot');
      const random = mulberry32(7);
      const inputs: [string, string | Buffer][] = [
        ...HOSTILE.map(([name, input]) => [name, input] as [string, string | Buffer]),
        ...Array.from({ length: 30 }, (_, i) => [`mutation ${i}`, mutate(VALID, random)] as [string, string]),
        ...Array.from(
          { length: 5 },
          (_, i) => [`random bytes ${i}`, randomBytes(random)] as [string, Buffer],
        ),
      ];
      for (const [i, [name, input]] of inputs.entries()) {
        const before = events.length;
        // Unique each time (a rewrite of the same content is rightly ignored), written atomically.
        const body = Buffer.concat([Buffer.from(input), Buffer.from(`\n# ${i}\n`)]);
        await writeFile(`${file}.tmp`, body);
        await rename(`${file}.tmp`, file);
        await answered(before, name);
        const last = events.at(-1)!;
        if (last.kind === 'error')
          assert.ok(last.error instanceof ConfigError, `${name}: ${String(last.error)}`);
        else good = last;
        // Between answers, only errors arrive for refused inputs: the last good one stands.
        for (const e of events.slice(before)) if (e.kind === 'snapshot') good = e;
      }
      assert.ok(good !== undefined);
    } finally {
      await sub.close();
    }
  });
});
