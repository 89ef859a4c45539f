import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stableReplicaId } from '../../src/store/replica-id.ts';

test('replica id: the first start keeps the host name in DATA_DIR; a later start under another host name reads it back', () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'certwatch-replica-')), 'data');
  assert.deepEqual(stableReplicaId(dir, 'host-a'), { id: 'host-a', source: 'created' });
  assert.equal(readFileSync(join(dir, 'replica-id'), 'utf8'), 'host-a\n');
  // The container was recreated: a new host name, the same volume.
  assert.deepEqual(stableReplicaId(dir, 'host-b'), { id: 'host-a', source: 'kept' });
});

test('replica id: a file holding something that is not a replica id is left alone and the host name is used', () => {
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-replica-'));
  writeFileSync(join(dir, 'replica-id'), 'not/valid id\n');
  assert.deepEqual(stableReplicaId(dir, 'host-b'), { id: 'host-b', source: 'fallback' });
  assert.equal(readFileSync(join(dir, 'replica-id'), 'utf8'), 'not/valid id\n');
});
