import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryError, type ChannelRef, type ChannelSender, type Reply } from '../../src/chat/types.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { OutboxStore, OutboxWorker, outboxKey, type OutboxItem } from '../../src/outbox/index.ts';
import { openStore } from '../../src/store/index.ts';

const chan: ChannelRef = { platform: 'telegram', channelId: '42' };
const other: ChannelRef = { platform: 'telegram', channelId: '43' };
const log = createLogger({ level: 'silent' });

function item(event: string, channel = chan): OutboxItem {
  return { targetId: 'abc123', event, channel, message: { title: event } };
}

class Clock {
  t = Date.UTC(2026, 0, 1);
  now = (): Date => new Date(this.t);
}

/** A sender whose next failures are scripted. */
class ScriptedSender implements ChannelSender {
  readonly platform = 'telegram' as const;
  sent: string[] = [];
  failures: (Error | null)[] = [];
  async send(channel: ChannelRef, message: Reply): Promise<void> {
    const f = this.failures.shift();
    if (f) throw f;
    this.sent.push(`${channel.channelId}:${message.title}`);
  }
}

async function setup(opts: { maxAttempts?: number; giveUpAfterMs?: number } = {}) {
  const invalid: string[] = [];
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: (k, why) => invalid.push(`${k} ${why}`) });
  const outbox = new OutboxStore(store.kv, store.repo.index);
  const clock = new Clock();
  const sender = new ScriptedSender();
  const delivered: string[] = [];
  const worker = new OutboxWorker({ store: outbox, log, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: opts.maxAttempts ?? 5, ...(opts.giveUpAfterMs === undefined ? {} : { giveUpAfterMs: opts.giveUpAfterMs }), onDelivered: (e) => delivered.push(e.key) });
  worker.register(sender);
  return { store, outbox, clock, sender, worker, delivered, invalid };
}

test('outbox: enqueue is idempotent by key, also after delivery', async () => {
  const { outbox, clock, worker, sender } = await setup();
  assert.equal((await outbox.enqueue([item('threshold:AA:7'), item('threshold:AA:7')], clock.now())).length, 1);
  assert.equal((await outbox.enqueue([item('threshold:AA:7')], clock.now())).length, 0);
  await worker.drainOnce();
  assert.equal((await outbox.enqueue([item('threshold:AA:7')], clock.now())).length, 0);
  assert.deepEqual(sender.sent, ['42:threshold:AA:7']);
  assert.equal((await outbox.get(outboxKey('abc123', 'threshold:AA:7')))?.state, 'delivered');
});

test('outbox: delivers pending entries in order and marks each delivered', async () => {
  const { outbox, clock, worker, sender, delivered } = await setup();
  await outbox.enqueue([item('e1')], clock.now());
  clock.t += 1;
  await outbox.enqueue([item('e2'), item('e3', other)], clock.now());
  const report = await worker.drainOnce();
  assert.deepEqual(report, { delivered: 3, retried: 0, failed: 0, pending: 0 });
  assert.deepEqual(sender.sent, ['42:e1', '42:e2', '43:e3']);
  assert.equal(delivered.length, 3);
  assert.deepEqual(await outbox.pending(), []);
  assert.deepEqual((await worker.drainOnce()).delivered, 0, 'nothing is sent twice');
});

test('outbox: a rate-limited send waits for Retry-After and holds that channel, not others', async () => {
  const { outbox, clock, worker, sender } = await setup();
  await outbox.enqueue([item('a1'), item('a2'), item('b1', other)], clock.now());
  sender.failures = [new DeliveryError('429 Too Many Requests', { retryAfterMs: 30_000 })];
  assert.deepEqual(await worker.drainOnce(), { delivered: 1, retried: 1, failed: 0, pending: 2 });
  assert.deepEqual(sender.sent, ['43:b1']);
  clock.t += 29_000;
  assert.equal((await worker.drainOnce()).delivered, 0, 'not before Retry-After');
  clock.t += 1_000;
  assert.equal((await worker.drainOnce()).delivered, 2);
  assert.deepEqual(sender.sent, ['43:b1', '42:a1', '42:a2']);
  const entry = await outbox.get(outboxKey('abc123', 'a1'));
  assert.equal(entry?.attempts, 1);
});

test('outbox: retries back off exponentially and give up after maxAttempts', async () => {
  const { outbox, clock, worker, sender } = await setup({ maxAttempts: 3, giveUpAfterMs: 0 });
  await outbox.enqueue([item('x')], clock.now());
  sender.failures = [new Error('ETIMEDOUT'), new Error('ETIMEDOUT'), new Error('ETIMEDOUT')];
  await worker.drainOnce();
  const first = await outbox.get(outboxKey('abc123', 'x'));
  assert.equal(Date.parse(first!.notBefore) - clock.t, 500, 'base 1000 ms, lower half with zero jitter');
  clock.t = Date.parse(first!.notBefore);
  await worker.drainOnce();
  const second = await outbox.get(outboxKey('abc123', 'x'));
  assert.equal(Date.parse(second!.notBefore) - clock.t, 1000, 'doubled');
  clock.t = Date.parse(second!.notBefore);
  assert.equal((await worker.drainOnce()).failed, 1);
  assert.equal((await outbox.get(outboxKey('abc123', 'x')))?.state, 'failed');
  assert.deepEqual(await outbox.pending(), []);
  assert.deepEqual(sender.sent, []);
});

test('outbox: a permanent delivery error is not retried', async () => {
  const { outbox, clock, worker, sender } = await setup();
  await outbox.enqueue([item('gone'), item('next')], clock.now());
  sender.failures = [new DeliveryError('chat not found', { permanent: true })];
  assert.deepEqual(await worker.drainOnce(), { delivered: 1, retried: 0, failed: 1, pending: 0 });
  assert.deepEqual(sender.sent, ['42:next']);
});

test('outbox: messages for a platform without a sender stay pending', async () => {
  const { outbox, clock, worker } = await setup();
  await outbox.enqueue([item('s', { platform: 'slack', channelId: 'C1' })], clock.now());
  assert.equal((await worker.drainOnce()).retried, 1);
  assert.equal((await outbox.pending()).length, 1);
});

test('outbox: an entry persisted but not indexed before a crash is indexed by the repeated decision', async () => {
  const { store, outbox, clock, worker, sender } = await setup();
  const key = outboxKey('abc123', 'crash');
  await store.kv.set(`o:${key}`, { v: 1, key, channel: chan, message: { title: 'crash' }, origin: 'abc123 crash', state: 'pending', attempts: 0, createdAt: clock.now().toISOString(), notBefore: clock.now().toISOString() });
  assert.equal((await worker.drainOnce()).delivered, 0);
  assert.equal((await outbox.enqueue([item('crash')], clock.now())).length, 0);
  assert.equal((await worker.drainOnce()).delivered, 1);
  assert.deepEqual(sender.sent, ['42:crash']);
});

test('outbox: a pending entry that cannot be read stays indexed, is reported each pass and is delivered once readable', async () => {
  const { store, outbox, clock, worker, sender, invalid } = await setup();
  await outbox.enqueue([item('newer'), item('broken'), item('fine')], clock.now());
  const newer = outboxKey('abc123', 'newer');
  const broken = outboxKey('abc123', 'broken');
  const readable = await outbox.get(newer);
  // Written by a newer replica (a schema version this one does not know), and not JSON at all.
  await store.kv.keyv.set(`o:${newer}`, { v: 2, ...readable, extra: 'from the future' });
  await (store.kv.keyv.store as { set(k: string, v: string): Promise<unknown> }).set(`certwatch:o:${broken}`, '{"value": {"v": 1');
  assert.equal((await worker.drainOnce()).delivered, 1);
  assert.deepEqual(sender.sent, ['42:fine']);
  assert.match(invalid.join('\n'), new RegExp(`o:${newer} v:`));
  assert.match(invalid.join('\n'), new RegExp(`o:${broken} not valid JSON`));
  // Still indexed: the next pass reports them again instead of having forgotten them.
  invalid.length = 0;
  assert.equal((await worker.drainOnce()).delivered, 0);
  assert.equal(invalid.length, 2);
  assert.deepEqual((await store.repo.index.readOwn('outbox')).sort(), [newer, broken].sort());
  // Once the entries read again (the newer replica is back, an operator repaired one), they go out.
  await store.kv.keyv.set(`o:${newer}`, { v: 1, ...readable });
  await store.kv.keyv.set(`o:${broken}`, { v: 1, ...readable, key: broken, message: { title: 'broken' } });
  assert.equal((await worker.drainOnce()).delivered, 2);
  assert.deepEqual(sender.sent, ['42:fine', '42:newer', '42:broken']);
  assert.deepEqual(await store.repo.index.readOwn('outbox'), []);
});

test('outbox: the running worker delivers right after kick() and stops cleanly', async () => {
  const { outbox, clock, worker, sender } = await setup();
  const delivered = new Promise<void>((resolve) => {
    const send = sender.send.bind(sender);
    sender.send = async (c, m) => {
      await send(c, m);
      resolve();
    };
  });
  worker.start();
  await outbox.enqueue([item('live')], clock.now());
  worker.kick();
  await delivered;
  await worker.stop(1000);
  assert.deepEqual(sender.sent, ['42:live']);
});

test('outbox: a store outage is logged once when it starts and once when it ends, not every poll', async () => {
  const events: string[] = [];
  const capture = createLogger({ level: 'info', destination: { write: (line: string) => void events.push(JSON.parse(line).msg as string) } });
  const { outbox, clock, sender } = await setup();
  await outbox.enqueue([item('during-outage')], clock.now());
  let down = 5;
  const flaky = new Proxy(outbox, {
    get(target, prop, receiver) {
      if (prop === 'pending' && down > 0) {
        return async () => {
          down--;
          throw new Error('store unavailable: getMany got no answer');
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const worker = new OutboxWorker({ store: flaky, log: capture, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: 5, pollMs: 5 });
  worker.register(sender);
  worker.start();
  const deadline = Date.now() + 5000;
  while (sender.sent.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  await worker.stop();
  assert.deepEqual(sender.sent, ['42:during-outage']);
  assert.equal(events.filter((e) => e === 'outbox.drain_failed').length, 1, events.join(','));
  assert.equal(events.filter((e) => e === 'outbox.drain_recovered').length, 1, events.join(','));
});

/** The outbox with `method` failing (store unavailable) for its next `times` calls. */
function failing(outbox: OutboxStore, method: 'markDelivered' | 'pending', times: number): OutboxStore {
  let left = times;
  return new Proxy(outbox, {
    get(target, prop, receiver) {
      if (prop === method && left > 0) {
        return async () => {
          left--;
          throw new Error(`store unavailable: ${method} got no answer`);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
}

test('outbox: a message sent while the store failed to record it is marked delivered later, not sent again', async () => {
  const { outbox, clock, sender } = await setup();
  await outbox.enqueue([item('sent-during-outage')], clock.now());
  const worker = new OutboxWorker({ store: failing(outbox, 'markDelivered', 1), log, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: 5 });
  worker.register(sender);
  await assert.rejects(worker.drainOnce(), /store unavailable/);
  assert.deepEqual(sender.sent, ['42:sent-during-outage'], 'the platform accepted it');
  assert.deepEqual(await worker.drainOnce(), { delivered: 1, retried: 0, failed: 0, pending: 0 });
  assert.deepEqual(sender.sent, ['42:sent-during-outage'], 'not posted a second time');
  assert.equal((await outbox.get(outboxKey('abc123', 'sent-during-outage')))?.state, 'delivered');
});

test('outbox: a send cut off by the outbox deadline and accepted late is not posted again', async () => {
  const { outbox, clock } = await setup();
  await outbox.enqueue([item('slow')], clock.now());
  const accepted: string[] = [];
  let calls = 0;
  let accept!: () => void;
  const slow: ChannelSender = {
    platform: 'telegram',
    send: async (_c, m) => {
      calls++;
      // The first call hangs past the deadline, then the platform accepts it after all.
      if (calls === 1) await new Promise<void>((r) => (accept = r));
      accepted.push(m.title ?? '');
    },
  };
  const worker = new OutboxWorker({ store: outbox, log, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: 5, sendTimeoutMs: 20 });
  worker.register(slow);
  assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 1, failed: 0, pending: 1 });
  clock.t += 60_000;
  assert.equal((await worker.drainOnce()).delivered, 0, 'the first send is still running: no second one beside it');
  assert.equal(calls, 1);
  accept();
  await new Promise((r) => setImmediate(r));
  clock.t += 60_000;
  assert.equal((await worker.drainOnce()).delivered, 1);
  assert.equal(calls, 1, 'the late acceptance counts as the delivery');
  assert.deepEqual(accepted, ['slow']);
  assert.equal((await outbox.get(outboxKey('abc123', 'slow')))?.state, 'delivered');
});

test('outbox: a send cut off by the outbox deadline that then fails is sent again', async () => {
  const { outbox, clock } = await setup();
  await outbox.enqueue([item('flaky')], clock.now());
  const accepted: string[] = [];
  let calls = 0;
  let refuse!: (err: Error) => void;
  const flaky: ChannelSender = {
    platform: 'telegram',
    send: async (_c, m) => {
      calls++;
      if (calls === 1) await new Promise<void>((_, reject) => (refuse = reject));
      accepted.push(m.title ?? '');
    },
  };
  const worker = new OutboxWorker({ store: outbox, log, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: 5, sendTimeoutMs: 20 });
  worker.register(flaky);
  assert.equal((await worker.drainOnce()).retried, 1);
  refuse(new Error('ECONNRESET'));
  await new Promise((r) => setImmediate(r));
  clock.t += 60_000;
  assert.equal((await worker.drainOnce()).delivered, 1);
  assert.equal(calls, 2);
  assert.deepEqual(accepted, ['flaky']);
});

test('outbox: a chat API outage longer than maxAttempts retries loses no message', async () => {
  const { outbox, clock, worker, sender } = await setup({ maxAttempts: 5 });
  await outbox.enqueue([item('during-a-long-outage')], clock.now());
  const start = clock.t;
  // The platform answers 503 for a whole day: far more attempts than maxAttempts.
  let attempts = 0;
  while (clock.t - start < 86_400_000) {
    sender.failures = [new DeliveryError('503 Service Unavailable')];
    const report = await worker.drainOnce();
    assert.equal(report.failed, 0, `given up after ${attempts} attempts`);
    attempts += report.retried;
    clock.t = Date.parse((await outbox.get(outboxKey('abc123', 'during-a-long-outage')))!.notBefore);
  }
  assert.ok(attempts > 5);
  sender.failures = [];
  assert.equal((await worker.drainOnce()).delivered, 1);
  assert.deepEqual(sender.sent, ['42:during-a-long-outage']);
});

/** The worker's in-memory keys of sends the platform accepted but the store has not recorded. */
function acceptedKeys(worker: OutboxWorker): ReadonlySet<string> {
  return (worker as unknown as { accepted: Set<string> }).accepted;
}

test('outbox: a send accepted after the worker gave up on its entry is not remembered forever', async () => {
  const { outbox, clock } = await setup();
  const accepts: (() => void)[] = [];
  const slow: ChannelSender = { platform: 'telegram', send: () => new Promise<void>((r) => accepts.push(r)) };
  const worker = new OutboxWorker({ store: outbox, log, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: 1, giveUpAfterMs: 0, sendTimeoutMs: 20 });
  worker.register(slow);
  const n = 5;
  await outbox.enqueue(Array.from({ length: n }, (_, i) => item(`late-${i}`)), clock.now());
  // Each send outlives the deadline and the entry is given up (maxAttempts 1)...
  assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 0, failed: n, pending: 0 });
  // ...then the platform accepts them after all: the entries are failed, never pending again.
  for (const accept of accepts) accept();
  await new Promise((r) => setImmediate(r));
  await worker.drainOnce();
  assert.equal(acceptedKeys(worker).size, 0, 'keys of entries no longer pending are forgotten');
});

test('outbox: a delivered mark written but not taken off the index does not leave its key behind', async () => {
  const { outbox, clock, sender } = await setup();
  await outbox.enqueue([item('half-marked')], clock.now());
  // The entry is written delivered, but the answer of the index update is lost (store timeout).
  const halfMarked = new Proxy(outbox, {
    get(target, prop, receiver) {
      if (prop === 'markDelivered') {
        return async (entry: Parameters<OutboxStore['markDelivered']>[0], now: Date) => {
          await target.markDelivered(entry, now);
          throw new Error('store unavailable: markDelivered got no answer');
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const worker = new OutboxWorker({ store: halfMarked, log, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: 5 });
  worker.register(sender);
  await assert.rejects(worker.drainOnce(), /store unavailable/);
  assert.equal(acceptedKeys(worker).size, 1);
  assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 0, failed: 0, pending: 0 });
  assert.equal(acceptedKeys(worker).size, 0);
  assert.deepEqual(sender.sent, ['42:half-marked'], 'posted once');
});

test('outbox: an accepted entry that cannot be read for a while keeps its key and is not posted again', async () => {
  const { store, outbox, clock, sender } = await setup();
  await outbox.enqueue([item('unreadable-then-fine')], clock.now());
  const worker = new OutboxWorker({ store: failing(outbox, 'markDelivered', 1), log, now: clock.now, random: () => 0, baseDelayMs: 1000, maxAttempts: 5 });
  worker.register(sender);
  await assert.rejects(worker.drainOnce(), /store unavailable/);
  const key = outboxKey('abc123', 'unreadable-then-fine');
  const readable = await outbox.get(key);
  // Written by a newer replica: a schema version this one does not know.
  await store.kv.keyv.set(`o:${key}`, { v: 2, ...readable });
  assert.deepEqual(await worker.drainOnce(), { delivered: 0, retried: 0, failed: 0, pending: 0 });
  assert.equal(acceptedKeys(worker).size, 1, 'still pending, only unreadable');
  await store.kv.keyv.set(`o:${key}`, { v: 1, ...readable });
  assert.deepEqual(await worker.drainOnce(), { delivered: 1, retried: 0, failed: 0, pending: 0 });
  assert.deepEqual(sender.sent, ['42:unreadable-then-fine'], 'posted once');
});
