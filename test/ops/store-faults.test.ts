// The store failing while the bot runs (fast suite; the real-server version is
// test/backends/faults.backend.ts): commands answer a clear temporary error, the scheduler
// skips with one log line, /healthz reports the store down.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import type { Reply } from '../../src/chat/types.ts';
import { createDispatcher } from '../../src/commands/dispatcher.ts';
import { defineCommand } from '../../src/commands/types.ts';
import type { TargetRecord } from '../../src/core/services.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { StoreUnavailableError } from '../../src/store/errors.ts';
import { openStore } from '../../src/store/index.ts';
import { harness } from '../commands/fakes.ts';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
  return { log, lines, events: () => lines.map((l) => l.msg) };
}

test('faults: a command hitting an unavailable store is told so, not "Something went wrong"', async () => {
  const h = harness();
  const list = defineCommand({
    name: 'list',
    summary: 'list',
    usage: '',
    args: z.object({ positional: z.array(z.string()), options: z.object({}) }),
    async run() {
      throw new StoreUnavailableError('store unavailable: getMany got no answer within 5000 ms');
    },
  });
  const dispatch = createDispatcher({ services: h.services, log: h.log, commands: [list] });
  const replies: Reply[] = [];
  await dispatch({ channel: { platform: 'console', channelId: 'c' }, user: { id: 'u' }, name: 'list', text: '' }, async (r) => void replies.push(r));
  assert.equal(replies.length, 1);
  assert.equal(replies[0]!.title, 'The store is unavailable right now');
  assert.match(replies[0]!.text?.join(' ') ?? '', /temporary/);
});

test('faults: the scheduler skips a run whose store is unavailable, and stops a run at the first store failure with one log line', async () => {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
  for (let i = 0; i < 30; i++) {
    const record: TargetRecord = { id: `t${String(i).padStart(5, '0')}`, target: parseTarget(`h${i}.example.com`), channel: { platform: 'slack', channelId: 'C1' }, addedBy: { id: 'u' }, addedAt: new Date().toISOString() };
    await store.repo.addTarget(record);
  }
  const { log, events } = capture();
  let calls = 0;
  const checker = {
    async checkStored(r: TargetRecord) {
      calls++;
      await new Promise((res) => setImmediate(res));
      throw new StoreUnavailableError(`store unavailable: set failed for ${r.id}`);
    },
  };
  const scheduler = new Scheduler({ repo: store.repo, checker, log, checkSchedule: '0 * * * *', concurrency: 2, jitterMs: 0 });
  const report = await scheduler.tick('scheduled');
  assert.ok(calls <= 3, `probed ${calls} targets after the store failed`);
  assert.equal(report.checked, 0);
  assert.equal(events().filter((e) => e === 'run.store_unavailable').length, 1);
  assert.equal(events().filter((e) => e === 'check.failed').length, 0);

  // The target index itself failing: the guarded run logs a skip instead of a generic failure.
  store.repo.targetIds = async () => {
    throw new StoreUnavailableError('store unavailable: getMany got no answer within 5000 ms');
  };
  await (scheduler as unknown as { guarded(r: string): Promise<unknown> }).guarded('scheduled');
  assert.ok(events().includes('run.skipped_store_unavailable'), events().join(','));
  await store.close();
});
