/**
 * istioFiles(): a watched folder of Istio YAML. New snapshot on change, errors reported and the
 * last good snapshot kept (DESIGN.md "Errors"; grpc-js-xds keeps the last good value and notifies
 * only on real change). Real files in os.tmpdir(), bounded polling waits.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConfigIssue } from '../src/errors.ts';
import { ConfigError } from '../src/errors.ts';
import { istioFiles } from '../src/istio/istio-files.ts';
import type { Snapshot } from '../src/snapshot.ts';
import { resolveWorkload } from '../src/workload.ts';
import { REVIEWS } from './fixtures/istio-helpers.ts';
import { clusterOf, save, until, VS } from './fixtures/watched-files.ts';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function setup() {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dabba-istio-files-'));
  dirs.push(dir);
  await writeFile(path.join(dir, 'services.yaml'), REVIEWS);
  await writeFile(path.join(dir, 'vs.yaml'), VS('v1'));
  const snapshots: Snapshot[] = [];
  const errors: ConfigError[] = [];
  const notices: ConfigIssue[] = [];
  const sub = istioFiles(dir, { debounceMs: 20 }).subscribe(resolveWorkload(), {
    onSnapshot: (s) => snapshots.push(s),
    onError: (e) => errors.push(e),
    onNotice: (n) => notices.push(n),
  });
  return { dir, snapshots, errors, notices, sub };
}

describe('istioFiles', () => {
  it('loads, reloads on edit, reports bad YAML keeping the last snapshot, recovers, ignores unchanged rewrites, stops on close', async () => {
    const { dir, snapshots, errors, sub } = await setup();
    try {
      await until('first snapshot', () => snapshots.length === 1);
      assert.equal(errors.length, 0);
      assert.equal(clusterOf(snapshots[0]), 'outbound|9080|v1|reviews.default.svc.cluster.local');

      // An edit (write + rename) produces a new snapshot with a new version.
      await save(path.join(dir, 'vs.yaml'), VS('v2'));
      await until('snapshot after edit', () => snapshots.length === 2);
      assert.notEqual(snapshots[1]!.version, snapshots[0]!.version);
      assert.equal(clusterOf(snapshots[1]), 'outbound|9080|v2|reviews.default.svc.cluster.local');

      // Invalid YAML: a ConfigError through onError, no snapshot.
      await save(path.join(dir, 'vs.yaml'), `${VS('v3')}    - route: [\n`);
      await until('error for invalid YAML', () => errors.length === 1);
      const err = errors[0]!;
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'DABBA_CONFIG_INVALID');
      assert.ok(err.issues.some((i) => i.source.endsWith('vs.yaml') && i.line !== undefined));
      await sleep(100);
      assert.equal(snapshots.length, 2, 'no snapshot from invalid input');

      // Fixing it produces a snapshot again.
      await save(path.join(dir, 'vs.yaml'), VS('v3'));
      await until('snapshot after fix', () => snapshots.length === 3);
      assert.equal(clusterOf(snapshots[2]), 'outbound|9080|v3|reviews.default.svc.cluster.local');

      // Rewriting the same content produces nothing new.
      await save(path.join(dir, 'vs.yaml'), VS('v3'));
      await sleep(200);
      assert.equal(snapshots.length, 3);
      assert.equal(errors.length, 1);

      // After close() changes are no longer seen.
      await sub.close();
      await save(path.join(dir, 'vs.yaml'), VS('v1'));
      await sleep(200);
      assert.equal(snapshots.length, 3);
    } finally {
      await sub.close();
    }
  });

  it('a translation error (unknown subset) is reported with file, line and path, and produces no snapshot', async () => {
    const { dir, snapshots, errors, sub } = await setup();
    try {
      await until('first snapshot', () => snapshots.length === 1);
      await save(path.join(dir, 'vs.yaml'), VS('v9'));
      await until('error', () => errors.length === 1);
      const issue = errors[0]!.issues[0]!;
      assert.equal(issue.path, 'spec.http[0].route[0].destination');
      assert.equal(issue.line, 7);
      assert.ok(issue.source.endsWith('vs.yaml'));
      assert.equal(snapshots.length, 1);
    } finally {
      await sub.close();
    }
  });

  it('a resource declared twice across files is an error naming the first place', async () => {
    const { dir, snapshots, errors, sub } = await setup();
    try {
      await until('first snapshot', () => snapshots.length === 1);
      await save(path.join(dir, 'zz-copy.yaml'), VS('v2'));
      await until('error', () => errors.length === 1);
      assert.match(errors[0]!.issues[0]!.message, /already declared at .*[/\\]vs\.yaml:1$/);
    } finally {
      await sub.close();
    }
  });

  it('an unreadable path reports DABBA_CONFIG_UNREADABLE', async () => {
    const errors: ConfigError[] = [];
    const sub = istioFiles(path.join(os.tmpdir(), 'dabba-does-not-exist-xyz'), { watch: false }).subscribe(
      resolveWorkload(),
      { onSnapshot: () => assert.fail('no snapshot'), onError: (e) => errors.push(e), onNotice: () => {} },
    );
    await until('error', () => errors.length === 1);
    assert.equal(errors[0]!.code, 'DABBA_CONFIG_UNREADABLE');
    await sub.close();
  });
});
