import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type Keyv from 'keyv';
import type { z } from 'zod';
import { openKeyv } from '../../src/store/keyv.ts';
import { TypedKv } from '../../src/store/kv.ts';
import { storedSegmentSchema } from '../../src/store/schema.ts';
import { BUCKETS, SegmentIndex, bucketOf } from '../../src/store/segments.ts';

/** TypedKv that records every call and can fail chosen writes. */
class RecordingKv extends TypedKv {
  readonly sets: string[] = [];
  readonly gets: string[] = [];
  readonly getManys: string[][] = [];
  readonly reported: string[];
  failSet: (key: string) => boolean = () => false;

  constructor(keyv: Keyv) {
    const invalid: string[] = [];
    super(keyv, (key, why) => invalid.push(`${key} ${why}`));
    this.reported = invalid;
  }

  override async get<S extends z.ZodType>(key: string, schema: S): Promise<z.infer<S> | undefined> {
    this.gets.push(key);
    return super.get(key, schema);
  }

  override async getMany<S extends z.ZodType>(keys: readonly string[], schema: S, unreadable?: string[]): Promise<(z.infer<S> | undefined)[]> {
    this.getManys.push([...keys]);
    return super.getMany(keys, schema, unreadable);
  }

  override async set(key: string, value: unknown, ttlMs?: number): Promise<void> {
    this.sets.push(key);
    if (this.failSet(key)) throw new Error(`write of ${key} failed`);
    return super.set(key, value, ttlMs);
  }

  clear(): void {
    this.sets.length = 0;
    this.gets.length = 0;
    this.getManys.length = 0;
  }
}

const ids = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(4, '0')}`);
const bucketKeys = (sets: readonly string[]): string[] => sets.filter((k) => !k.startsWith('ix:replicas'));

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const backends: [string, () => Promise<string>][] = [
  ['memory', async () => 'memory://'],
  [
    'sqlite',
    async () => {
      const dir = await mkdtemp(join(tmpdir(), 'certwatch-segments-'));
      dirs.push(dir);
      return `sqlite://${join(dir, 'ix.sqlite')}`;
    },
  ],
];

test('segments: bucketOf is FNV-1a 32 bit modulo the bucket count (stored format)', () => {
  // Published FNV-1a test vectors: "a" -> 0xe40c292c, "foobar" -> 0xbf9cf968.
  assert.equal(BUCKETS, 64);
  assert.equal(bucketOf('a'), 0xe40c292c % 64);
  assert.equal(bucketOf('foobar'), 0xbf9cf968 % 64);
  assert.equal(bucketOf(''), 0x811c9dc5 % 64);
});

for (const [name, url] of backends) {
  describe(`segments on ${name}`, () => {
    async function open(): Promise<{ storeUrl: string; keyv: Keyv; kv: RecordingKv; close: () => Promise<void> }> {
      const storeUrl = await url();
      const keyv = await openKeyv(storeUrl);
      return { storeUrl, keyv, kv: new RecordingKv(keyv), close: () => keyv.disconnect() };
    }

    test(`${name}: ids spread over every bucket and one add rewrites only its own bucket`, async () => {
      const { kv, close } = await open();
      const ix = new SegmentIndex(kv, 'r1');
      const all = ids('t', 1000);
      await ix.add('targets', ...all);
      const written = new Set(bucketKeys(kv.sets));
      assert.equal(written.size, BUCKETS, 'a thousand ids fill every bucket');
      for (const k of written) assert.match(k, new RegExp(`^ix:targets:r1:(\\d|[1-5]\\d|6[0-3])$`));

      kv.clear();
      await ix.add('targets', 'new001');
      assert.deepEqual(bucketKeys(kv.sets), [`ix:targets:r1:${bucketOf('new001')}`]);
      const bucket = await kv.get(`ix:targets:r1:${bucketOf('new001')}`, storedSegmentSchema);
      assert.ok(bucket !== undefined);
      assert.ok(bucket.ids.length < 60, `the rewritten bucket holds ${bucket.ids.length} ids, not all 1001`);
      assert.ok(bucket.ids.every((id) => bucketOf(id) === bucketOf('new001')));

      kv.clear();
      await ix.add('targets', 'new001', all[0]!);
      assert.deepEqual(kv.sets, [], 'adding ids already present writes nothing');
      assert.equal((await ix.read('targets')).length, 1001);
      await close();
    });

    test(`${name}: concurrent adds in one process all land and share bucket writes`, async () => {
      const { kv, close } = await open();
      const ix = new SegmentIndex(kv, 'r1');
      const all = ids('c', 300);
      await Promise.all(all.map((id) => ix.add('targets', id)));
      assert.deepEqual((await ix.read('targets')).sort(), [...all].sort());
      // One read-modify-write per caller would be 300 writes; queued callers share them.
      assert.ok(bucketKeys(kv.sets).length <= 1 + BUCKETS, `${bucketKeys(kv.sets).length} bucket writes`);
      await close();
    });

    test(`${name}: adds and removes queued together apply in call order`, async () => {
      const { kv, close } = await open();
      const ix = new SegmentIndex(kv, 'r1');
      await ix.add('targets', 'keep01', 'gone01');
      await Promise.all([
        ix.add('targets', 'flip01'),
        ix.remove('targets', 'flip01'),
        ix.remove('targets', 'back01'),
        ix.add('targets', 'back01'),
        ix.remove('targets', 'gone01', 'never1'),
      ]);
      assert.deepEqual((await ix.read('targets')).sort(), ['back01', 'keep01']);
      await close();
    });

    test(`${name}: removal rewrites only the buckets of the removed ids and never touches other replicas`, async () => {
      const { kv, close } = await open();
      const a = new SegmentIndex(kv, 'ra');
      const b = new SegmentIndex(kv, 'rb');
      await a.add('targets', ...ids('a', 100));
      await b.add('targets', 'shared', ...ids('b', 100));
      await a.add('targets', 'shared');
      kv.clear();
      await a.remove('targets', 'a0001', 'a0002', 'shared');
      const expected = new Set(['a0001', 'a0002', 'shared'].map((id) => `ix:targets:ra:${bucketOf(id)}`));
      assert.deepEqual(new Set(kv.sets), expected);
      assert.equal((await a.readOwn('targets')).includes('a0001'), false);
      // The other replica's segment still lists its copy: the entity record decides (repository).
      assert.equal((await a.read('targets')).includes('shared'), true);
      assert.equal((await b.readOwn('targets')).includes('shared'), true);
      await close();
    });

    test(`${name}: two replicas adding at the same time both see every addition, each reads its own`, async () => {
      const { storeUrl, kv, close } = await open();
      // A second connection to the same store where the backend allows it (memory:// is per instance).
      const other = name === 'memory' ? undefined : await openKeyv(storeUrl);
      const kvB = other === undefined ? kv : new RecordingKv(other);
      const a = new SegmentIndex(kv, 'replica-a');
      const b = new SegmentIndex(kvB, 'replica-b');
      const idsA = ids('a', 150);
      const idsB = ids('b', 150);
      await Promise.all([...idsA.map((id) => a.add('chan:x', id)), ...idsB.map((id) => b.add('chan:x', id))]);
      const union = [...idsA, ...idsB].sort();
      assert.deepEqual((await a.read('chan:x')).sort(), union);
      assert.deepEqual((await b.read('chan:x')).sort(), union);
      assert.deepEqual((await a.readOwn('chan:x')).sort(), idsA);
      assert.deepEqual((await b.readOwn('chan:x')).sort(), idsB);
      assert.deepEqual(await a.read('chan:y'), [], 'indexes do not leak into each other');
      await other?.disconnect();
      await close();
    });

    test(`${name}: replicas registering at the same instant both stay visible, and a lost registration heals`, async () => {
      const { kv, close } = await open();
      // Both read the registry before either writes; A writes, reads back and is done; only then
      // does B write. With one shared record B's write dropped A for good (two replicas starting
      // together), and neither noticed: each had read itself back.
      let bothRead!: () => void;
      const read = new Promise<void>((r) => (bothRead = r));
      let registryGets = 0;
      const realGet = kv.get.bind(kv);
      kv.get = async (key, schema) => {
        const v = await realGet(key, schema);
        if (key.startsWith('ix:replicas') && ++registryGets === 2) bothRead();
        return v;
      };
      let aDone!: () => void;
      const aRegistered = new Promise<void>((r) => (aDone = r));
      const realSet = kv.set.bind(kv);
      kv.set = async (key, value, ttl) => {
        if (key.startsWith('ix:replicas')) {
          const who = (value as { replicas: string[] }).replicas;
          if (who.includes('replica-a') && !who.includes('replica-b')) await read;
          if (who.includes('replica-b') && !who.includes('replica-a')) await aRegistered;
        }
        return realSet(key, value, ttl);
      };
      const [a, b] = [new SegmentIndex(kv, 'replica-a'), new SegmentIndex(kv, 'replica-b')];
      await Promise.all([a.add('targets', 'ta0001').then(aDone), b.add('targets', 'tb0001')]);
      kv.get = realGet;
      kv.set = realSet;
      assert.notEqual(bucketOf('replica-a'), bucketOf('replica-b'));
      assert.deepEqual((await a.read('targets')).sort(), ['ta0001', 'tb0001']);
      assert.deepEqual((await b.read('targets')).sort(), ['ta0001', 'tb0001']);

      // Two ids in one slot, the slot overwritten so that it lists only the first: the second
      // registers again at its next read, and the first then sees its entries.
      const pool = ids('r', 500);
      const slot = bucketOf(pool[0]!);
      const twin = pool.find((r, i) => i > 0 && bucketOf(r) === slot)!;
      const [c, d] = [new SegmentIndex(kv, pool[0]!), new SegmentIndex(kv, twin)];
      await c.add('targets', 'tc0001');
      await d.add('targets', 'td0001');
      await kv.set(`ix:replicas:${slot}`, { v: 1, replicas: [pool[0]!] });
      assert.ok(!(await c.read('targets')).includes('td0001'), 'the overwrite hides the second replica');
      await d.read('targets');
      assert.ok((await c.read('targets')).includes('td0001'), 'its next read registered it again');
      await close();
    });

    test(`${name}: a registry written by an older version (one ix:replicas record) is still read`, async () => {
      const { kv, close } = await open();
      await new SegmentIndex(kv, 'old').add('targets', 'to0001');
      // What the older version stored: the single record, not the slots.
      await kv.set('ix:replicas', { v: 1, replicas: ['old'] });
      await kv.delete(`ix:replicas:${bucketOf('old')}`);
      assert.deepEqual(await new SegmentIndex(kv, 'new').read('targets'), ['to0001']);
      await close();
    });

    test(`${name}: read fetches every bucket of every replica with one getMany`, async () => {
      const { kv, close } = await open();
      const replicas = ['r1', 'r2', 'r3'];
      for (const r of replicas) await new SegmentIndex(kv, r).add('targets', `${r}x01`);
      const ix = new SegmentIndex(kv, 'r1');
      kv.clear();
      assert.deepEqual((await ix.read('targets')).sort(), ['r1x01', 'r2x01', 'r3x01']);
      // One getMany for the registry (its 64 slots and the older single record), one for the buckets.
      assert.equal(kv.getManys.length, 2);
      assert.equal(kv.getManys[0]!.length, 65);
      assert.ok(kv.getManys[0]!.every((k) => k.startsWith('ix:replicas')));
      assert.equal(kv.getManys[1]!.length, replicas.length * BUCKETS);
      assert.deepEqual(kv.gets, [], 'nothing is read one by one');

      kv.clear();
      assert.deepEqual(await ix.readOwn('targets'), ['r1x01']);
      assert.deepEqual(kv.gets, []);
      assert.equal(kv.getManys.length, 1);
      assert.ok(kv.getManys[0]!.every((k) => k.startsWith('ix:targets:r1:')));
      await close();
    });

    test(`${name}: readers return ids oldest first across buckets and across restarts`, async () => {
      const { kv, close } = await open();
      const first = ids('o', 40);
      const ix = new SegmentIndex(kv, 'r1');
      for (const id of first) await ix.add('outbox', id);
      await ix.add('outbox', 'zbatch', 'abatch', 'mbatch');
      // A restarted process (fresh instance, same replica id) appends after what is stored.
      const restarted = new SegmentIndex(kv, 'r1');
      await restarted.add('outbox', 'after1');
      const expected = [...first, 'zbatch', 'abatch', 'mbatch', 'after1'];
      assert.deepEqual(await restarted.readOwn('outbox'), expected);
      assert.deepEqual(await restarted.read('outbox'), expected);
      await close();
    });

    test(`${name}: a failed bucket write rejects only the callers with an id in that bucket`, async () => {
      const { kv, close } = await open();
      const ix = new SegmentIndex(kv, 'r1');
      await ix.add('targets', 'warm01');
      const bad = `ix:targets:r1:${bucketOf('fail01')}`;
      const ok = ids('k', 20).find((id) => bucketOf(id) !== bucketOf('fail01'))!;
      kv.failSet = (k) => k === bad;
      const results = await Promise.allSettled([ix.add('targets', 'fail01'), ix.add('targets', ok)]);
      assert.equal(results[0].status, 'rejected');
      assert.equal(results[1].status, 'fulfilled');
      kv.failSet = () => false;
      assert.deepEqual((await ix.read('targets')).sort(), [ok, 'warm01'].sort());
      // The queue keeps working after a failure.
      await ix.add('targets', 'fail01');
      assert.equal((await ix.read('targets')).includes('fail01'), true);
      await close();
    });

    test(`${name}: an invalid bucket is reported and skipped while the others are read`, async () => {
      const { keyv, kv, close } = await open();
      const ix = new SegmentIndex(kv, 'r1');
      await ix.add('targets', ...ids('v', 200));
      const broken = bucketOf('v0007');
      await keyv.set(`ix:targets:r1:${broken}`, { v: 1, ids: ['v0007'], seq: [] });
      const read = await ix.read('targets');
      assert.equal(read.includes('v0007'), false);
      assert.equal(read.length, 200 - ids('v', 200).filter((id) => bucketOf(id) === broken).length);
      assert.deepEqual(kv.reported, [`ix:targets:r1:${broken} seq: ids and seq differ in length`]);
      await close();
    });

    test(`${name}: a write into an unreadable bucket keeps the index marked damaged until repaired()`, async () => {
      const { keyv, kv, close } = await open();
      const ix = new SegmentIndex(kv, 'r1');
      const all = ids('w', 200);
      await ix.add('chan:x', ...all);
      const broken = bucketOf('w0007');
      await keyv.set(`ix:chan:x:r1:${broken}`, { v: 2, ids: ['w0007'], seq: [1] });
      assert.equal((await ix.readChecked('chan:x')).damaged, true);
      const late = ids('z', 400).find((id) => bucketOf(id) === broken)!;
      await ix.add('chan:x', late);
      const after = await ix.readChecked('chan:x');
      assert.equal(after.damaged, true, 'the ids the overwritten bucket held are still missing');
      assert.ok(after.ids.includes(late));
      assert.equal(after.ids.includes('w0007'), false);
      await ix.add('chan:x', ...all.filter((id) => bucketOf(id) === broken));
      await ix.repaired('chan:x');
      const healed = await ix.readChecked('chan:x');
      assert.equal(healed.damaged, false);
      assert.equal(healed.ids.length, 201);
      await close();
    });
  });
}
