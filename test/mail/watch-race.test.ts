// A mail domain removed while a check of it records its state: nothing of it stays stored.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import Keyv from 'keyv';
import { createKeyedLock } from '../../src/commands/channel-lock.ts';
import type { MailReport } from '../../src/mail/check.ts';
import { MailWatch } from '../../src/mail/watch.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { OutboxStore } from '../../src/outbox/store.ts';
import { TypedKv } from '../../src/store/kv.ts';
import { MailDomainRepository } from '../../src/store/mail-domains.ts';
import { KeyvRepository } from '../../src/store/repository.ts';
import { CHANNEL } from '../commands/fakes.ts';

test('mail watch: a domain removed while its check is being recorded leaves no state behind', async () => {
  const kv = new TypedKv(new Keyv(), () => {});
  const repo = new KeyvRepository(kv, 'test', { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false });
  const domains = new MailDomainRepository(kv, repo.index);
  const now = new Date('2026-01-01T00:00:00Z');
  const report: MailReport = {
    domain: 'example.org', status: 'ok', checkedAt: now.toISOString(), source: 'none', failedLookups: [], hosts: [],
    mtaSts: { state: 'none' }, tlsRpt: { state: 'none' }, findings: [],
  };
  const watch = new MailWatch({
    repo: domains,
    outbox: new OutboxStore(kv, repo.index),
    check: async () => report,
    // The removal lands after the watcher's re-read of the record, before it stores the state.
    settings: async (c) => {
      await domains.remove('md0001');
      return repo.getChannelSettings(c);
    },
    countTargets: async () => 0,
    channelLock: createKeyedLock(),
    critDays: 7,
    concurrency: 1,
    now: () => now,
    log: createLogger({ level: 'silent' }),
  });
  const record = { id: 'md0001', domain: 'example.org', channel: CHANNEL, addedBy: { id: 'u1' }, addedAt: now.toISOString() };
  await domains.add(record);
  await watch.check(record);
  assert.equal(await domains.get('md0001'), undefined);
  assert.equal(await domains.getState('md0001'), undefined, 'the removed domain has no stored state');
});
