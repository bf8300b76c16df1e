/**
 * Error codes are a contract: every code a package can produce is documented in the README's
 * error table with its Envoy response flag, and the table lists nothing that does not exist.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ClientErrorCode, ResponseFlag } from '@dabba/client';
import { CoreErrorCode } from '@dabba/core';
import { DiscoveryErrorCode } from '@dabba/discovery';

const README = path.join(import.meta.dirname, '..', '..', 'README.md');

async function documentedCodes(): Promise<Map<string, string>> {
  const text = await readFile(README, 'utf8');
  const section = text.slice(text.indexOf('## Errors'), text.indexOf('\n## ', text.indexOf('## Errors') + 1));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const m = /^\| `(DABBA_[A-Z_]+)` \| *`?([A-Z]*)`? *\|/.exec(line);
    if (m) rows.set(m[1]!, m[2] ?? '');
  }
  return rows;
}

test('every error code is documented in the README, and every documented code exists', async () => {
  const documented = await documentedCodes();
  const actual = new Set<string>([
    ...Object.values(CoreErrorCode),
    ...Object.values(ClientErrorCode),
    ...Object.values(DiscoveryErrorCode),
  ]);
  assert.deepEqual([...documented.keys()].sort(), [...actual].sort());
});

test('documented response flags are the ones the errors carry', async () => {
  const documented = await documentedCodes();
  assert.equal(documented.get(ClientErrorCode.NO_ROUTE), ResponseFlag.NO_ROUTE_FOUND);
  assert.equal(documented.get(ClientErrorCode.CLUSTER_NOT_FOUND), ResponseFlag.NO_CLUSTER_FOUND);
  assert.equal(documented.get(ClientErrorCode.NO_HEALTHY_UPSTREAM), ResponseFlag.NO_HEALTHY_UPSTREAM);
});
