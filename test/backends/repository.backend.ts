// The typed repository on real Redis and PostgreSQL servers (started by run.sh).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelRef } from '../../src/chat/types.ts';
import type { TargetRecord } from '../../src/core/services.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { backends } from './servers.ts';

const defaults = { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false };
const chanA: ChannelRef = { platform: 'telegram', channelId: '-1001234567890', threadId: '7' };
const chanB: ChannelRef = { platform: 'slack', channelId: 'C0B12345' };

function record(id: string, input: string, channel: ChannelRef): TargetRecord {
  return { id, target: parseTarget(input), channel, addedBy: { id: 'u1', name: 'ann' }, addedAt: '2026-01-01T00:00:00.000Z' };
}

async function open(storeUrl: string, replicaId = 'r1'): Promise<{ store: Store; invalid: string[] }> {
  const invalid: string[] = [];
  const store = await openStore({ storeUrl, replicaId, defaults, onInvalid: (k, why) => invalid.push(`${k} ${why}`) });
  return { store, invalid };
}

for (const backend of backends()) {
  const name = backend.name;
  describe(`repository on ${name}`, () => {
    test(`${name}: adds, lists per channel, finds duplicates and removes targets`, async () => {
      const { store } = await open(await backend.fresh());
      const { repo } = store;
      try {
        await repo.addTarget(record('aaaa01', 'mail.example.com:587', chanA));
        await repo.addTarget(record('aaaa02', 'imap.example.com:143', chanA));
        await repo.addTarget(record('aaaa03', 'mail.example.com:587', chanB));
        assert.deepEqual((await repo.listTargets(chanA)).map((r) => r.id), ['aaaa01', 'aaaa02']);
        assert.equal((await repo.listTargets({ platform: 'telegram', channelId: chanA.channelId })).length, 2, 'topics share the chat');
        assert.deepEqual((await repo.listTargets(chanB)).map((r) => r.id), ['aaaa03']);
        assert.deepEqual((await repo.listTargets()).map((r) => r.id), ['aaaa01', 'aaaa02', 'aaaa03']);
        assert.deepEqual(await repo.getTarget('aaaa02'), record('aaaa02', 'imap.example.com:143', chanA));
        assert.equal((await repo.findDuplicate(chanA, parseTarget('smtp://mail.example.com:587')))?.id, 'aaaa01');
        assert.equal((await repo.findDuplicate(chanB, parseTarget('mail.example.com:587')))?.id, 'aaaa03');
        assert.equal(await repo.findDuplicate(chanA, parseTarget('mail.example.com:465')), undefined);
        await repo.updateTarget({ ...record('aaaa02', 'imap.example.com:143', chanA), label: 'imap', mutedUntil: '2026-02-01T00:00:00.000Z' });
        assert.equal((await repo.getTarget('aaaa02'))?.label, 'imap');
        assert.equal(await repo.removeTarget('aaaa01'), true);
        assert.equal(await repo.removeTarget('aaaa01'), false);
        assert.deepEqual((await repo.listTargets(chanA)).map((r) => r.id), ['aaaa02']);
        assert.deepEqual((await repo.listTargets()).map((r) => r.id), ['aaaa02', 'aaaa03']);
        assert.equal(await repo.getTarget('aaaa01'), undefined);
        assert.match(await repo.newId(), /^[a-z0-9]{6}$/);
      } finally {
        await store.close();
      }
    });

    test(`${name}: latest results, alert state and channel settings round-trip`, async () => {
      const { store, invalid } = await open(await backend.fresh());
      const { repo } = store;
      try {
        assert.deepEqual(await repo.getChannelSettings(chanA), defaults);
        await repo.setChannelSettings(chanA, { thresholds: [10, 2], failAfter: 3, digest: true });
        assert.deepEqual(await repo.getChannelSettings({ ...chanA, threadId: undefined }), { thresholds: [10, 2], failAfter: 3, digest: true });
        assert.deepEqual(await repo.getChannelSettings(chanB), defaults);

        const target = parseTarget('mail.example.com:587');
        const latest = {
          targetId: 'cccc01',
          checkedAt: '2026-01-02T00:00:00.000Z',
          status: 'critical' as const,
          results: [
            {
              target,
              address: '2001:db8::7',
              status: 'critical' as const,
              problems: [{ code: 'EXPIRED' as const, severity: 'critical' as const, message: 'expired 3 days ago — «ünïcode»' }],
              error: null,
              tls: { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
              certificate: null,
              chain: [],
              trusted: true,
              hostnameMatch: true,
              checkedAt: '2026-01-02T00:00:00.000Z',
              timings: { totalMs: 12.5, dnsMs: 1 },
            },
          ],
        };
        await repo.recordLatest(latest);
        assert.deepEqual(await repo.getLatest('cccc01'), latest);
        assert.equal(await repo.getLatest('nope01'), undefined);
        assert.deepEqual([...(await repo.getLatestMany(['nope01', 'cccc01'])).entries()], [['cccc01', latest]]);

        const state = {
          targetId: 'cccc01',
          certs: { 'AB:CD': { notAfter: '2026-03-01T00:00:00.000Z', lowestPosted: 7, firstSeen: '2026-01-01T00:00:00.000Z', lastSeen: '2026-01-02T00:00:00.000Z' } },
          issues: { UNREACHABLE: { streak: 2, clearStreak: 0, announced: 'posted' as const, episode: 1, detail: 'refused' } },
          updatedAt: '2026-01-02T00:00:00.000Z',
        };
        await repo.putAlertState(state);
        assert.deepEqual(await repo.getAlertState('cccc01'), state);
        // Removing the target removes its results and alert state too.
        await repo.addTarget(record('cccc01', 'mail.example.com:587', chanA));
        await repo.removeTarget('cccc01');
        assert.equal(await repo.getLatest('cccc01'), undefined);
        assert.equal(await repo.getAlertState('cccc01'), undefined);
        assert.deepEqual(invalid, []);
      } finally {
        await store.close();
      }
    });

    test(`${name}: a stored value that fails validation is reported and skipped, not thrown`, async () => {
      const url = await backend.fresh();
      const { store, invalid } = await open(url);
      const { repo } = store;
      try {
        for (const id of ['bbbb01', 'bbbb02', 'bbbb03', 'bbbb04']) await repo.addTarget(record(id, `${id}.example.com`, chanA));
        // Written with keyv itself: wrong shape, and a schema version this build does not know.
        await store.kv.keyv.set('t:bbbb01', { v: 1, id: 'bbbb01', target: { host: 42 } });
        await store.kv.keyv.set('t:bbbb02', { v: 99, ...record('bbbb02', 'b.example.com', chanA) });
        // Written behind keyv's back: text that is not JSON at all (corruption, another app).
        await backend.writeRaw(url, 't:bbbb03', '{"value": {"v": 1, "id": "bbbb03"');
        await repo.setChannelSettings(chanB, { thresholds: [5], failAfter: 1, digest: false });
        await backend.writeRaw(url, 's:slack:C0B12345', 'not json');

        assert.deepEqual((await repo.listTargets(chanA)).map((r) => r.id), ['bbbb04']);
        assert.equal(await repo.getTarget('bbbb01'), undefined);
        assert.equal(await repo.getTarget('bbbb03'), undefined);
        assert.deepEqual(await repo.getChannelSettings(chanB), defaults, 'unreadable settings fall back to the defaults');
        const report = invalid.join('\n');
        assert.match(report, /t:bbbb01 target/);
        assert.match(report, /t:bbbb02 v:/);
        assert.match(report, /t:bbbb03 not valid JSON/);
        assert.match(report, /s:slack:C0B12345 not valid JSON/);
      } finally {
        await store.close();
      }
    });

    test(`${name}: two replicas adding targets at the same time both see every addition`, async () => {
      const url = await backend.fresh();
      const a = await open(url, 'replica-a');
      const b = await open(url, 'replica-b');
      try {
        const adds: Promise<void>[] = [];
        for (let i = 0; i < 25; i++) {
          const n = String(i).padStart(4, '0');
          adds.push(a.store.repo.addTarget(record(`ra${n}`, `a${i}.example.com`, i % 2 === 0 ? chanA : chanB)));
          adds.push(b.store.repo.addTarget(record(`rb${n}`, `b${i}.example.com`, i % 2 === 0 ? chanA : chanB)));
        }
        await Promise.all(adds);
        for (const { store } of [a, b]) {
          assert.equal((await store.repo.listTargets()).length, 50, `${store.repo.index.replicaId} lists all`);
          assert.equal((await store.repo.listTargets(chanA)).length, 26);
          assert.equal((await store.repo.listTargets(chanB)).length, 24);
        }
        // A third replica that never wrote sees them too (it reads the shared registry).
        const c = await open(url, 'replica-c');
        try {
          assert.equal((await c.store.repo.listTargets()).length, 50);
          // A removal by one replica hides the target from all, whoever indexed it.
          assert.equal(await c.store.repo.removeTarget('ra0000'), true);
        } finally {
          await c.store.close();
        }
        assert.equal((await a.store.repo.listTargets(chanA)).some((r) => r.id === 'ra0000'), false);
        assert.equal((await b.store.repo.listTargets()).length, 49);
        assert.equal(await b.store.repo.findDuplicate(chanA, parseTarget('a0.example.com')), undefined);
        assert.equal((await b.store.repo.findDuplicate(chanA, parseTarget('a2.example.com')))?.id, 'ra0002');
      } finally {
        await a.store.close();
        await b.store.close();
      }
    });

    test(`${name}: two stores open in one process close independently`, async () => {
      const url = await backend.fresh();
      const first = await open(url, 'r1');
      const second = await open(url, 'r2');
      await first.store.repo.addTarget(record('eeee01', 'e.example.com', chanA));
      await first.store.close();
      // The second store must still work after the first one closed, and close cleanly.
      assert.deepEqual((await second.store.repo.listTargets()).map((r) => r.id), ['eeee01']);
      await second.store.close();
      const third = await open(url, 'r3');
      assert.equal((await third.store.repo.getTarget('eeee01'))?.id, 'eeee01');
      await third.store.close();
    });
  });
}
