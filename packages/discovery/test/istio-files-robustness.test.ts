/**
 * istioFiles() under what a real folder does to it: link loops, a folder deleted and recreated,
 * writers that are not atomic, files vanishing while read, huge and malformed files. A source
 * must never crash its host, never serve half a file, and always keep the last good snapshot
 * while it reports the problem. Real files in os.tmpdir(); waits are bounded polls.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import type { ConfigError, ConfigIssue } from '../src/errors.ts';
import { istioFiles } from '../src/istio/istio-files.ts';
import { readConfigFiles } from '../src/istio/read-config-files.ts';
import type { Snapshot } from '../src/snapshot.ts';
import { resolveWorkload } from '../src/workload.ts';
import { REVIEWS } from './fixtures/istio-helpers.ts';
import { clusterOf, longestStall, save, until, VS } from './fixtures/watched-files.ts';

const V = (subset: string) => `outbound|9080|${subset}|reviews.default.svc.cluster.local`;

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dabba-files-robust-'));
  dirs.push(dir);
  return dir;
}

/** A VirtualService of 10,000 routes (0.8 MiB): parsed on the worker thread. */
function bigVirtualService(): string {
  const routes = Array.from(
    { length: 10_000 },
    (_, i) =>
      `    - match: [{ uri: { prefix: /p${i} } }]\n      route: [{ destination: { host: reviews, subset: v1 } }]\n`,
  ).join('');
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
${routes}`;
}

function subscribe(target: string | string[], options: Parameters<typeof istioFiles>[1] = {}) {
  const snapshots: Snapshot[] = [];
  const errors: ConfigError[] = [];
  const notices: ConfigIssue[] = [];
  const sub = istioFiles(target, { debounceMs: 20, ...options }).subscribe(resolveWorkload(), {
    onSnapshot: (s) => snapshots.push(s),
    onError: (e) => errors.push(e),
    onNotice: (n) => notices.push(n),
  });
  return { snapshots, errors, notices, sub };
}

async function meshDir(subset = 'v1'): Promise<string> {
  const dir = await tempDir();
  await writeFile(path.join(dir, 'services.yaml'), REVIEWS);
  await writeFile(path.join(dir, 'vs.yaml'), VS(subset));
  return dir;
}

describe('istioFiles: the file system misbehaving', () => {
  it('regression: a symbolic link loop (even under a non-YAML name) is a ConfigError naming it, never a crash', async () => {
    const dir = await meshDir();
    const { snapshots, errors, sub } = subscribe(dir);
    try {
      await until('first snapshot', () => snapshots.length === 1);
      await symlink('loop', path.join(dir, 'loop'));
      await until('an error for the loop', () => errors.length === 1);
      const issue = errors[0]!.issues[0]!;
      assert.equal(errors[0]!.code, 'DABBA_CONFIG_UNREADABLE');
      assert.match(issue.source, /loop$/);
      assert.match(issue.message, /symbolic link loop \(ELOOP\)/);
      // Still alive and still watching: removing the loop and editing applies.
      await unlink(path.join(dir, 'loop'));
      await save(path.join(dir, 'vs.yaml'), VS('v2'));
      await until('snapshot after the loop went', () => clusterOf(snapshots.at(-1)) === V('v2'));
    } finally {
      await sub.close();
    }
  });

  it('regression: a folder deleted and recreated is watched again, with a notice each way, the old snapshot serving between', async () => {
    const parent = await tempDir();
    const dir = path.join(parent, 'mesh');
    await mkdir(dir);
    await writeFile(path.join(dir, 'services.yaml'), REVIEWS);
    await writeFile(path.join(dir, 'vs.yaml'), VS('v1'));
    const { snapshots, errors, notices, sub } = subscribe(dir);
    try {
      await until('first snapshot', () => snapshots.length === 1);
      await rm(dir, { recursive: true });
      await until('a notice that it was removed', () => notices.some((n) => /was removed/.test(n.message)));
      await until('an error: unreadable', () => errors.length >= 1);
      assert.equal(errors.at(-1)!.code, 'DABBA_CONFIG_UNREADABLE');
      assert.equal(snapshots.length, 1, 'a removed folder does not delete the configuration');

      await mkdir(dir);
      await writeFile(path.join(dir, 'services.yaml'), REVIEWS);
      await save(path.join(dir, 'vs.yaml'), VS('v2'));
      await until('snapshot from the recreated folder', () => clusterOf(snapshots.at(-1)) === V('v2'));
      assert.ok(notices.some((n) => /is back/.test(n.message)));
      // And later edits still apply (the old code stopped seeing them here).
      await save(path.join(dir, 'vs.yaml'), VS('v3'));
      await until('snapshot after a later edit', () => clusterOf(snapshots.at(-1)) === V('v3'));
    } finally {
      await sub.close();
    }
  });

  it('regression: a folder replaced at once (removed and recreated before any event is read) is watched anew', async () => {
    const parent = await tempDir();
    const dir = path.join(parent, 'mesh');
    await mkdir(dir);
    await writeFile(path.join(dir, 'services.yaml'), REVIEWS);
    await writeFile(path.join(dir, 'vs.yaml'), VS('v1'));
    const { snapshots, sub } = subscribe(dir);
    try {
      await until('first snapshot', () => snapshots.length === 1);
      // Synchronously, so the old watcher's events are read only when the new folder exists.
      rmSync(dir, { recursive: true });
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'services.yaml'), REVIEWS);
      await save(path.join(dir, 'vs.yaml'), VS('v2'));
      await until('snapshot from the new folder', () => clusterOf(snapshots.at(-1)) === V('v2'));
      // The watch follows the new folder, not the deleted one: a later edit applies.
      await sleep(100);
      await save(path.join(dir, 'vs.yaml'), VS('v3'));
      await until('a later edit in the new folder applies', () => clusterOf(snapshots.at(-1)) === V('v3'));
    } finally {
      await sub.close();
    }
  });

  it('regression: a file root that is a link into a ConfigMap-style ..data folder follows each swap of ..data', async () => {
    // Kubernetes mounts a ConfigMap as name -> ..data/name, ..data -> ..<timestamp>/, and
    // updates it by writing a new timestamped folder and renaming a new ..data link over the old.
    const dir = await tempDir();
    const generation = async (name: string, subset: string) => {
      await mkdir(path.join(dir, name));
      await writeFile(path.join(dir, name, 'mesh.yaml'), `${REVIEWS}---\n${VS(subset)}`);
    };
    await generation('..2026_01', 'v1');
    await symlink('..2026_01', path.join(dir, '..data'));
    await symlink('..data/mesh.yaml', path.join(dir, 'mesh.yaml'));
    const { snapshots, errors, sub } = subscribe(path.join(dir, 'mesh.yaml'));
    try {
      await until('first snapshot', () => snapshots.length === 1);
      assert.equal(clusterOf(snapshots[0]), V('v1'));
      for (const [name, subset] of [
        ['..2026_02', 'v2'],
        ['..2026_03', 'v3'],
      ] as const) {
        await generation(name, subset);
        await symlink(name, path.join(dir, '..data_tmp'));
        await rename(path.join(dir, '..data_tmp'), path.join(dir, '..data'));
        await until(`the swap to ${subset}`, () => clusterOf(snapshots.at(-1)) === V(subset));
      }
      assert.deepEqual(errors, []);
    } finally {
      await sub.close();
    }
  });

  it('regression: a file root that becomes a folder is read and watched as a folder', async () => {
    const parent = await tempDir();
    const root = path.join(parent, 'mesh');
    await writeFile(root, `${REVIEWS}---\n${VS('v1')}`);
    const { snapshots, sub } = subscribe(root);
    try {
      await until('first snapshot', () => snapshots.length === 1);
      await rm(root);
      await mkdir(root);
      await writeFile(path.join(root, 'services.yaml'), REVIEWS);
      await save(path.join(root, 'vs.yaml'), VS('v2'));
      await until('snapshot from the folder', () => clusterOf(snapshots.at(-1)) === V('v2'));
      await mkdir(path.join(root, 'routing'));
      await sleep(50);
      await save(path.join(root, 'routing', 'vs.yaml'), VS('v3'));
      await rm(path.join(root, 'vs.yaml'));
      await until('an edit in a subfolder of it applies', () => clusterOf(snapshots.at(-1)) === V('v3'));
    } finally {
      await sub.close();
    }
  });

  it('regression: a FIFO given as the root is refused, not opened (it hung the read and close())', async () => {
    const dir = await tempDir();
    const fifo = path.join(dir, 'mesh.yaml');
    execFileSync('mkfifo', [fifo]);
    const { snapshots, errors, sub } = subscribe(fifo);
    await until('an error for the FIFO', () => errors.length === 1);
    assert.equal(errors[0]!.code, 'DABBA_CONFIG_UNREADABLE');
    assert.match(errors[0]!.issues[0]!.message, /not a regular file or a folder/);
    assert.equal(snapshots.length, 0);
    const closed = await Promise.race([sub.close().then(() => 'closed'), sleep(2000).then(() => 'hung')]);
    assert.equal(closed, 'closed');
  });

  it('a subfolder created after the start is watched, and a removed one stops mattering', async () => {
    const dir = await meshDir();
    const { snapshots, sub } = subscribe(dir);
    try {
      await until('first snapshot', () => snapshots.length === 1);
      await rm(path.join(dir, 'vs.yaml'));
      await mkdir(path.join(dir, 'routing', 'deep'), { recursive: true });
      await sleep(50);
      await save(path.join(dir, 'routing', 'deep', 'vs.yaml'), VS('v2'));
      await until('snapshot from the new subfolder', () => clusterOf(snapshots.at(-1)) === V('v2'));
      await save(path.join(dir, 'routing', 'deep', 'vs.yaml'), VS('v3'));
      await until('an edit in it applies', () => clusterOf(snapshots.at(-1)) === V('v3'));
    } finally {
      await sub.close();
    }
  });

  it('regression: a writer that truncates, then writes 80 ms later, is never served the empty file', async () => {
    const dir = await meshDir();
    const { snapshots, errors, sub } = subscribe(dir);
    try {
      await until('first snapshot', () => snapshots.length === 1);
      const file = path.join(dir, 'vs.yaml');
      await writeFile(file, ''); // truncate in place
      await sleep(80);
      await writeFile(file, VS('v2')); // then write in place
      await until('the finished file applies', () => clusterOf(snapshots.at(-1)) === V('v2'));
      await sleep(400);
      assert.deepEqual(
        snapshots.map(clusterOf),
        [V('v1'), V('v2')],
        'no snapshot of the half-written (empty) file',
      );
      assert.equal(errors.length, 0);
    } finally {
      await sub.close();
    }
  });

  it('an atomic rename applies without waiting for stableMs; an in-place write waits for it', async () => {
    const dir = await meshDir();
    const { snapshots, sub } = subscribe(dir, { stableMs: 1500 });
    try {
      await until('first snapshot', () => snapshots.length === 1);
      const renamedAt = Date.now();
      await save(path.join(dir, 'vs.yaml'), VS('v2'));
      await until('the renamed file', () => snapshots.length === 2, 1200);
      assert.ok(Date.now() - renamedAt < 1500, 'a rename is read at once');
      const writtenAt = Date.now();
      await writeFile(path.join(dir, 'vs.yaml'), VS('v3'));
      await until('the written file', () => snapshots.length === 3, 5000);
      assert.ok(Date.now() - writtenAt >= 1500, 'an in-place write is read once quiet for stableMs');
      assert.equal(clusterOf(snapshots[2]), V('v3'));
    } finally {
      await sub.close();
    }
  });

  it('regression: files deleted while a folder is read are gone, not errors (400 files under churn)', async () => {
    const dir = await tempDir();
    const names = Array.from({ length: 400 }, (_, i) => `f${String(i).padStart(3, '0')}.yaml`);
    await Promise.all(names.map((n) => writeFile(path.join(dir, n), '# nothing\n')));
    let churning = true;
    const churn = (async () => {
      let i = 0;
      while (churning) {
        const file = path.join(dir, names[i++ % names.length]!);
        await rm(file, { force: true });
        await writeFile(file, '# back\n');
      }
    })();
    try {
      let files = 0;
      for (let round = 0; round < 15; round++) {
        const read = await readConfigFiles([dir], { maxFileBytes: 1 << 20 });
        assert.deepEqual(read.issues, [], `round ${round}`);
        files += read.files.length;
      }
      assert.ok(files > 0);
    } finally {
      churning = false;
      await churn;
    }
  });

  it('follows a link to a folder as that folder, reads a folder reached twice once, and skips a dangling link with a notice', async () => {
    const dir = await tempDir();
    const elsewhere = await tempDir();
    await writeFile(path.join(elsewhere, 'services.yaml'), REVIEWS);
    await writeFile(path.join(dir, 'vs.yaml'), VS('v1'));
    await symlink(elsewhere, path.join(dir, 'linked.yaml')); // a folder whose name looks like a file
    await symlink(dir, path.join(dir, 'again')); // a loop through a folder
    await symlink(path.join(dir, 'missing.yaml'), path.join(dir, 'dangling.yaml'));
    const read = await readConfigFiles([dir], { maxFileBytes: 1 << 20 });
    assert.deepEqual(read.issues, []);
    assert.deepEqual(read.files.map((f) => path.relative(dir, f.file)).sort(), [
      path.join('linked.yaml', 'services.yaml'),
      'vs.yaml',
    ]);
    assert.ok(read.notices.some((n) => n.source.endsWith('again') && /already read/.test(n.message)));
    assert.ok(
      read.notices.some((n) => n.source.endsWith('dangling.yaml') && /points to nothing/.test(n.message)),
    );
  });

  it('refuses a file over maxFileBytes and a document over maxDocumentBytes, naming file, line and limit', async () => {
    const dir = await meshDir();
    await writeFile(path.join(dir, 'huge.yaml'), `# ${'x'.repeat(5000)}\n`);
    const { errors, snapshots, sub } = subscribe(dir, { maxFileBytes: 4096, watch: false });
    try {
      await until('error', () => errors.length === 1);
      assert.equal(snapshots.length, 0);
      const issue = errors[0]!.issues[0]!;
      assert.match(issue.source, /huge\.yaml$/);
      assert.match(issue.message, /over the limit of 4096 \(maxFileBytes\)/);
    } finally {
      await sub.close();
    }
    const big = `${VS('v1')}---\n${VS('v2').replace('name: reviews', `name: big\n  annotations: { a: "${'y'.repeat(3000)}" }`)}`;
    await writeFile(path.join(dir, 'huge.yaml'), big);
    const second = subscribe(dir, { maxDocumentBytes: 2048, watch: false });
    try {
      await until('error', () => second.errors.length === 1);
      const issue = second.errors[0]!.issues.find((i) => /maxDocumentBytes/.test(i.message))!;
      assert.match(issue.source, /huge\.yaml$/);
      assert.equal(issue.line, 8, 'the line of the oversized document marker');
    } finally {
      await second.sub.close();
    }
  });

  it('refuses a file that is not UTF-8 with the line of the first bad byte (it was silently replaced)', async () => {
    const dir = await meshDir();
    const bytes = Buffer.concat([
      Buffer.from(`${VS('v1')}# fine\n# bad: `),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('\n'),
    ]);
    await writeFile(path.join(dir, 'vs.yaml'), bytes);
    const { errors, sub } = subscribe(dir, { watch: false });
    try {
      await until('error', () => errors.length === 1);
      const issue = errors[0]!.issues[0]!;
      assert.match(issue.source, /vs\.yaml$/);
      assert.equal(issue.line, 9);
      assert.match(issue.message, /not valid UTF-8/);
      assert.equal(errors[0]!.code, 'DABBA_CONFIG_INVALID');
    } finally {
      await sub.close();
    }
  });

  it('a file of 10,000 documents loads without holding the event loop (stated bound: 150 ms; it was 1.6 s)', async () => {
    const dir = await tempDir();
    const docs: string[] = [];
    for (let i = 0; i < 5000; i++) {
      docs.push(`apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: svc${i}, namespace: default }
spec:
  hosts: [svc${i}.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: 8080, name: http, protocol: HTTP }]
  endpoints: [{ address: 10.0.${i >> 8}.${i & 255} }]`);
      docs.push(`apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: svc${i}, namespace: default }
spec:
  host: svc${i}
  subsets: [{ name: v1, labels: { version: v1 } }]`);
    }
    await writeFile(path.join(dir, 'big.yaml'), docs.join('\n---\n'));
    const { snapshots, errors, sub } = subscribe(dir, { watch: false });
    try {
      const stall = await longestStall(() =>
        until('snapshot', () => snapshots.length === 1 || errors.length > 0, 60_000),
      );
      assert.equal(errors.length, 0);
      assert.equal(snapshots[0]!.clusters.size, 10_000 + 2);
      assert.ok(stall < 150, `longest event-loop stall ${stall.toFixed(0)} ms`);
    } finally {
      await sub.close();
    }
  });

  it('one large resource (10,000 routes, 0.8 MiB), valid or not, is parsed off the main thread (stated bound: 150 ms of stall)', async () => {
    const big = bigVirtualService();
    for (const [label, text] of [
      ['valid', big],
      ['invalid (parsed twice, the second time with positions)', `${big}  bogus: 1\n`],
    ] as const) {
      const dir = await tempDir();
      await writeFile(path.join(dir, 'services.yaml'), REVIEWS);
      await writeFile(path.join(dir, 'vs.yaml'), text);
      const { snapshots, errors, sub } = subscribe(dir, { watch: false });
      try {
        const stall = await longestStall(() =>
          until('an answer', () => snapshots.length + errors.length > 0, 60_000),
        );
        if (label === 'valid') assert.equal(errors.length, 0, errors[0]?.message);
        else {
          const issue = errors[0]!.issues[0]!;
          assert.match(issue.message, /unknown field "bogus"/);
          assert.equal(issue.path, 'spec');
          assert.equal(issue.line, 5, 'the line of the object holding it, found on the worker');
        }
        assert.ok(stall < 150, `${label}: longest event-loop stall ${stall.toFixed(0)} ms`);
      } finally {
        await sub.close();
      }
    }
  });

  it('regression: the parser thread holds the process while it owes a parse, and not after (it kept a finished process alive)', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'services.yaml'), REVIEWS);
    await writeFile(path.join(dir, 'vs.yaml'), bigVirtualService());
    // A process whose only work is to read this configuration, and which never closes it: it
    // must live until the snapshot arrives, then exit on its own.
    const source = pathToFileURL(path.join(import.meta.dirname, '../src/istio/istio-files.ts')).href;
    const workload = pathToFileURL(path.join(import.meta.dirname, '../src/workload.ts')).href;
    const script = `
      const { istioFiles } = await import(${JSON.stringify(source)});
      const { resolveWorkload } = await import(${JSON.stringify(workload)});
      istioFiles(${JSON.stringify(dir)}).subscribe(resolveWorkload(), {
        onSnapshot: (s) => console.log('snapshot', s.routes.size),
        onError: (e) => console.log('error', e.message),
        onNotice: () => {},
      });`;
    const main = path.join(dir, 'main.mjs');
    await writeFile(main, script);
    const child = spawn(process.execPath, ['--conditions=dabba-source', main], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b;
    });
    const exit = await Promise.race([
      once(child, 'exit').then(([code]) => `exit ${code}`),
      sleep(30_000).then(() => 'still running'),
    ]);
    child.kill();
    assert.equal(exit, 'exit 0');
    assert.match(out, /^snapshot 1$/m, 'the snapshot arrived before the process ended');
  });
});
