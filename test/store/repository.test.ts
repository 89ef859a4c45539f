import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChannelRef } from '../../src/chat/types.ts';
import type { TargetRecord } from '../../src/core/services.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { makeResult } from '../commands/fakes.ts';
import { KeyvRepository, openStore, type Store } from '../../src/store/index.ts';
import { MailDomainRepository, type MailDomainRecord } from '../../src/store/mail-domains.ts';

const defaults = { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false };
const chanA: ChannelRef = { platform: 'telegram', channelId: '-100123', threadId: '7' };
const chanB: ChannelRef = { platform: 'slack', channelId: 'C0B' };

function record(id: string, input: string, channel: ChannelRef): TargetRecord {
  return { id, target: parseTarget(input), channel, addedBy: { id: 'u1', name: 'ann' }, addedAt: '2026-01-01T00:00:00.000Z' };
}

function mailDomain(id: string, domain: string, channel: ChannelRef): MailDomainRecord {
  return { id, domain, channel, addedBy: { id: 'u1', name: 'ann' }, addedAt: '2026-01-01T00:00:00.000Z' };
}

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function sqliteUrl(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'certwatch-store-'));
  dirs.push(dir);
  return `sqlite://${join(dir, 'sub', 'certwatch.sqlite')}`;
}

const backends: [string, () => Promise<string>][] = [
  ['memory', async () => 'memory://'],
  ['sqlite', sqliteUrl],
];

for (const [name, url] of backends) {
  describe(`repository on ${name}`, () => {
    async function open(replicaId = 'r1', storeUrl?: string): Promise<{ store: Store; invalid: string[] }> {
      const invalid: string[] = [];
      const store = await openStore({ storeUrl: storeUrl ?? (await url()), replicaId, defaults, onInvalid: (k, why) => invalid.push(`${k} ${why}`) });
      return { store, invalid };
    }

    test(`${name}: adds, lists per channel, finds duplicates and removes targets`, async () => {
      const { store } = await open();
      const { repo } = store;
      await repo.addTarget(record('aaaa01', 'mail.example.com:587', chanA));
      await repo.addTarget(record('aaaa02', 'imap.example.com:143', chanA));
      await repo.addTarget(record('aaaa03', 'mail.example.com:587', chanB));
      assert.deepEqual((await repo.listTargets(chanA)).map((r) => r.id), ['aaaa01', 'aaaa02']);
      assert.deepEqual((await repo.listTargets({ platform: 'telegram', channelId: '-100123' })).length, 2, 'topics share the chat');
      assert.deepEqual((await repo.listTargets()).map((r) => r.id), ['aaaa01', 'aaaa02', 'aaaa03']);
      assert.equal((await repo.findDuplicate(chanA, parseTarget('smtp://mail.example.com:587')))?.id, 'aaaa01');
      assert.equal(await repo.findDuplicate(chanA, parseTarget('mail.example.com:465')), undefined);
      assert.deepEqual((await repo.getTarget('aaaa02'))?.target.protocol, 'imap');
      assert.equal(await repo.removeTarget('aaaa01'), true);
      assert.equal(await repo.removeTarget('aaaa01'), false);
      assert.deepEqual((await repo.listTargets(chanA)).map((r) => r.id), ['aaaa02']);
      assert.equal(await repo.getTarget('aaaa01'), undefined);
      await store.close();
    });

    test(`${name}: a stored value that fails validation is reported and skipped`, async () => {
      const { store, invalid } = await open();
      await store.repo.addTarget(record('bbbb01', 'a.example.com', chanA));
      await store.repo.addTarget(record('bbbb02', 'b.example.com', chanA));
      await store.kv.keyv.set('t:bbbb01', { v: 1, id: 'bbbb01', target: { host: 42 } });
      await store.kv.keyv.set('t:bbbb02', { v: 99, ...record('bbbb02', 'b.example.com', chanA) });
      assert.deepEqual(await store.repo.listTargets(chanA), []);
      assert.equal(invalid.length, 2);
      assert.match(invalid.join('\n'), /t:bbbb01/);
      assert.match(invalid.join('\n'), /t:bbbb02 v:/);
      await store.close();
    });

    test(`${name}: a value that is not JSON, read in a batch, is reported like a single read`, async () => {
      const { store, invalid } = await open();
      await store.repo.addTarget(record('eeee01', 'a.example.com', chanA));
      await store.repo.addTarget(record('eeee02', 'b.example.com', chanA));
      // Written behind keyv's serializer: keyv stores "certwatch:<key>" in the backend.
      await (store.kv.keyv.store as { set(k: string, v: string): Promise<unknown> }).set('certwatch:t:eeee02', '{"value": {"v": 1');
      assert.deepEqual((await store.repo.listTargets(chanA)).map((r) => r.id), ['eeee01']);
      assert.match(invalid.join('\n'), /t:eeee02 not valid JSON/, 'store.invalid_value is reported for a getMany row');
      await store.close();
    });

    test(`${name}: garbage in one channel index bucket does not hide the channel's targets`, async () => {
      const { store, invalid } = await open();
      const ids = ['ffff01', 'ffff02', 'ffff03', 'ffff04'];
      for (const id of ids) await store.repo.addTarget(record(id, `${id}.example.com`, chanA));
      const { bucketOf } = await import('../../src/store/segments.ts');
      await (store.kv.keyv.store as { set(k: string, v: string): Promise<unknown> }).set(`certwatch:ix:chan:telegram:-100123:r1:${bucketOf('ffff02')}`, 'garbage');
      assert.deepEqual((await store.repo.listTargets(chanA)).map((r) => r.id), ids);
      assert.match(invalid.join('\n'), /ix:chan:telegram:-100123:r1:\d+ not valid JSON/);
      // The index was rebuilt: the next read finds every id without the fallback.
      invalid.length = 0;
      assert.deepEqual((await store.repo.listTargets(chanA)).map((r) => r.id), ids);
      assert.deepEqual(invalid, []);
      await store.close();
    });

    test(`${name}: an add into an unreadable channel index bucket does not hide the targets that bucket held`, async () => {
      const { store, invalid } = await open();
      const ids = ['gggg01', 'gggg02', 'gggg03'];
      for (const id of ids) await store.repo.addTarget(record(id, `${id}.example.com`, chanA));
      const { bucketOf } = await import('../../src/store/segments.ts');
      const bucket = bucketOf('gggg02');
      await (store.kv.keyv.store as { set(k: string, v: string): Promise<unknown> }).set(`certwatch:ix:chan:telegram:-100123:r1:${bucket}`, 'garbage');
      // A new target whose id falls in the same bucket, added before anyone lists the channel.
      let n = 0;
      while (bucketOf(`gg${String(n).padStart(4, '0')}`) !== bucket) n++;
      const late = `gg${String(n).padStart(4, '0')}`;
      await store.repo.addTarget(record(late, 'late.example.com', chanA));
      assert.match(invalid.join('\n'), new RegExp(`ix:chan:telegram:-100123:r1:${bucket} not valid JSON`));
      assert.deepEqual((await store.repo.listTargets(chanA)).map((r) => r.id), [...ids, late].sort());
      await store.close();
    });

    test(`${name}: garbage in one mail-domain channel index bucket does not hide the channel's domains`, async () => {
      const { store, invalid } = await open();
      const domains = new MailDomainRepository(store.kv, store.repo.index);
      const ids = ['mmmm01', 'mmmm02', 'mmmm03', 'mmmm04'];
      for (const id of ids) await domains.add(mailDomain(id, `${id}.example.com`, chanA));
      await domains.add(mailDomain('mmmm05', 'other.example.com', chanB));
      const { bucketOf } = await import('../../src/store/segments.ts');
      await (store.kv.keyv.store as { set(k: string, v: string): Promise<unknown> }).set(`certwatch:ix:mchan:telegram:-100123:r1:${bucketOf('mmmm02')}`, 'garbage');
      assert.deepEqual((await domains.list(chanA)).map((r) => r.id), ids);
      assert.match(invalid.join('\n'), /ix:mchan:telegram:-100123:r1:\d+ not valid JSON/);
      // The index was rebuilt: the next read finds every id without the fallback.
      invalid.length = 0;
      assert.deepEqual((await domains.list(chanA)).map((r) => r.id), ids);
      assert.deepEqual(invalid, []);
      assert.deepEqual((await domains.list(chanB)).map((r) => r.id), ['mmmm05']);
      await store.close();
    });

    test(`${name}: an add into an unreadable mail-domain channel index bucket does not hide the domains that bucket held`, async () => {
      const { store, invalid } = await open();
      const domains = new MailDomainRepository(store.kv, store.repo.index);
      const ids = ['nnnn01', 'nnnn02', 'nnnn03'];
      for (const id of ids) await domains.add(mailDomain(id, `${id}.example.com`, chanA));
      const { bucketOf } = await import('../../src/store/segments.ts');
      const bucket = bucketOf('nnnn02');
      await (store.kv.keyv.store as { set(k: string, v: string): Promise<unknown> }).set(`certwatch:ix:mchan:telegram:-100123:r1:${bucket}`, 'garbage');
      // A new domain whose id falls in the same bucket, added before anyone lists the channel.
      let n = 0;
      while (bucketOf(`nn${String(n).padStart(4, '0')}`) !== bucket) n++;
      const late = `nn${String(n).padStart(4, '0')}`;
      await domains.add(mailDomain(late, 'late.example.com', chanA));
      assert.match(invalid.join('\n'), new RegExp(`ix:mchan:telegram:-100123:r1:${bucket} not valid JSON`));
      assert.deepEqual((await domains.list(chanA)).map((r) => r.id).sort(), [...ids, late].sort());
      await store.close();
    });

    test(`${name}: settings default per channel until set, latest and alert state round-trip`, async () => {
      const { store } = await open();
      const { repo } = store;
      assert.deepEqual(await repo.getChannelSettings(chanA), defaults);
      await repo.setChannelSettings(chanA, { thresholds: [10, 2], failAfter: 3, digest: true });
      assert.deepEqual(await repo.getChannelSettings({ ...chanA, threadId: undefined }), { thresholds: [10, 2], failAfter: 3, digest: true });
      assert.deepEqual(await repo.getChannelSettings(chanB), defaults);
      const latest = { targetId: 'cccc01', checkedAt: '2026-01-02T00:00:00.000Z', status: 'error' as const, results: [] };
      await repo.recordLatest(latest);
      assert.deepEqual(await repo.getLatest('cccc01'), latest);
      assert.deepEqual([...(await repo.getLatestMany(['cccc01', 'nope01'])).keys()], ['cccc01']);
      // A result's notes are kept (a stored result without any still reads back).
      const noted = { ...makeResult(parseTarget('mail.example.com:587')), notes: [{ code: 'CLIENT_CERT_REQUIRED' as const, message: 'client certificate required' }] };
      const withNotes = { targetId: 'cccc02', checkedAt: '2026-01-02T00:00:00.000Z', status: 'ok' as const, results: [noted] };
      await repo.recordLatest(withNotes);
      assert.deepEqual((await repo.getLatest('cccc02'))?.results[0]?.notes, noted.notes);
      const state = { targetId: 'cccc01', certs: {}, issues: {}, updatedAt: '2026-01-02T00:00:00.000Z' };
      await repo.putAlertState(state);
      assert.deepEqual(await repo.getAlertState('cccc01'), state);
      await store.close();
    });

    test(`${name}: two replicas adding at the same time both see every addition`, async () => {
      const shared = await url();
      const a = await open('replica-a', shared);
      // memory:// is per process, so the second replica shares the first one's keyv there.
      const b = name === 'memory' ? undefined : (await open('replica-b', shared)).store;
      const repoB = b?.repo ?? new KeyvRepository(a.store.kv, 'replica-b', defaults);
      const adds: Promise<void>[] = [];
      for (let i = 0; i < 20; i++) {
        adds.push(a.store.repo.addTarget(record(`ra${String(i).padStart(4, '0')}`, `a${i}.example.com`, chanA)));
        adds.push(repoB.addTarget(record(`rb${String(i).padStart(4, '0')}`, `b${i}.example.com`, chanA)));
      }
      await Promise.all(adds);
      assert.equal((await a.store.repo.listTargets(chanA)).length, 40);
      assert.equal((await repoB.listTargets()).length, 40);
      // A removal by one replica hides the target from both, whoever indexed it.
      assert.equal(await repoB.removeTarget('ra0000'), true);
      assert.equal((await a.store.repo.listTargets(chanA)).some((r) => r.id === 'ra0000'), false);
      await a.store.close();
      await b?.close();
    });

    test(`${name}: new ids are short and unused`, async () => {
      const { store } = await open();
      const id = await store.repo.newId();
      assert.match(id, /^[a-z0-9]{6}$/);
      await store.close();
    });
  });
}

test('sqlite: targets survive closing and reopening the file', async () => {
  const storeUrl = await sqliteUrl();
  const first = await openStore({ storeUrl, replicaId: 'r1', defaults, onInvalid: () => {} });
  await first.repo.addTarget(record('dddd01', 'ldap.example.com:389', chanB));
  await first.close();
  const second = await openStore({ storeUrl, replicaId: 'r1', defaults, onInvalid: () => {} });
  assert.deepEqual((await second.repo.listTargets(chanB)).map((r) => r.target.protocol), ['ldap']);
  await second.close();
});

test('store: an operation the backend never answers fails with StoreUnavailableError within its deadline', async () => {
  const { default: Keyv } = await import('keyv');
  const { TypedKv } = await import('../../src/store/kv.ts');
  const { StoreUnavailableError } = await import('../../src/store/errors.ts');
  const never = () => new Promise<never>(() => {});
  const hanging = { get: never, set: never, delete: never, clear: never, getMany: never, on() {}, opts: {} };
  const kv = new TypedKv(new Keyv({ store: hanging as never, namespace: 'certwatch' }), () => {}, 200);
  const { z } = await import('zod');
  for (const op of [() => kv.get('x', z.unknown()), () => kv.getMany(['x', 'y'], z.unknown()), () => kv.set('x', 1), () => kv.delete('x'), () => kv.ping()]) {
    const started = Date.now();
    await assert.rejects(op(), (err: unknown) => err instanceof StoreUnavailableError && /no answer within 200 ms/.test(err.message));
    assert.ok(Date.now() - started < 2000);
  }
});
