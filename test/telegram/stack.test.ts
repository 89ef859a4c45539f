// The Telegram adapter over the real command layer, store and prober: what a user sees when
// adding an internal address (SSRF guard), adding a reachable target, and pressing its
// Remove button. Only the platform (local fake Bot API) and DNS (a fixed table) are faked.
import { test } from 'node:test';
import { createKeyedLock } from '../../src/commands/channel-lock.ts';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { TrustStore } from '../../src/cert/trust.ts';
import { startTelegram } from '../../src/chat/telegram/bot.ts';
import { commands, createDispatcher } from '../../src/commands/index.ts';
import type { LatestResults, Services } from '../../src/core/services.ts';
import { Prober, type Address } from '../../src/probe/probe.ts';
import { worstStatus } from '../../src/probe/result.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { openStore } from '../../src/store/index.ts';
import { FakeTelegram } from '../helpers/fake-telegram.ts';
import { startTlsServer } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf } from '../helpers/pki.ts';

const dns: Record<string, Address[]> = {
  'svc.example.test': [{ address: '127.0.0.1', family: 4 }],
  'metadata.example.test': [{ address: '169.254.169.254', family: 4 }],
  'intranet.example.test': [{ address: '10.1.2.3', family: 4 }, { address: '::ffff:192.168.0.9', family: 6 }],
};

test('telegram stack: internal addresses are refused, a reachable target is added and its Remove button works', async () => {
  const root = await makeCa();
  const leaf = await makeLeaf(root, { sans: ['svc.example.test'], days: 90 });
  const tls = await startTlsServer(creds(leaf));
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30, 7], failAfter: 2, digest: false }, onInvalid: () => {} });
  const prober = new Prober({ trust: TrustStore.fromPem(root.certPem), resolve: async (host) => dns[host] ?? [] });
  // Loopback is allowed for this one test server only; everything else internal stays blocked.
  const addressPolicy = createAddressPolicy({ allowCidrs: ['127.0.0.1/32'] });
  const probeOpts = { timeoutMs: 3000, warnDays: 30, critDays: 7, addressPolicy };
  const services: Services = {
    repo: store.repo,
    checks: {
      async checkStored(record): Promise<LatestResults> {
        const results = await prober.probe(record.target, probeOpts);
        return { targetId: record.id, checkedAt: new Date().toISOString(), status: worstStatus(results.map((r) => r.status)), results };
      },
      checkAdHoc: (target) => prober.probe(target, probeOpts),
    },
    now: () => new Date(),
    defaults: { thresholds: [30, 7], failAfter: 2, digest: false, warnDays: 30, critDays: 7 },
    limits: { maxTargetsPerChannel: 10 },
    channelLock: createKeyedLock(),
  };
  const fake = await FakeTelegram.start();
  fake.addChat({ id: 5, type: 'private' });
  const user = { id: 5, username: 'ops' };
  const bot = await startTelegram({
    token: fake.token,
    apiRoot: fake.apiRoot,
    dispatcher: createDispatcher({ services, log: pino({ level: 'silent' }) }),
    logger: pino({ level: 'silent' }),
    commands,
    allowedChats: ['*'],
    pollTimeoutSec: 1,
  });
  try {
    const menu = (await fake.waitForCall((c) => c.method === 'setMyCommands')).params.commands as { command: string }[];
    for (const name of ['add', 'list', 'check', 'remove', 'mute', 'unmute', 'settings', 'help']) assert.ok(menu.some((c) => c.command === name), name);

    for (const host of ['metadata.example.test', 'intranet.example.test']) {
      fake.sendText(5, user, `/add ${host}:443`);
      const [refused] = await fake.waitForMessages((m) => m.text.includes(host) && m.text.includes('not added'));
      assert.match(refused!.text, /not allowed/);
    }
    fake.sendText(5, user, '/check metadata.example.test:443');
    const [checked] = await fake.waitForMessages((m) => m.text.includes('metadata.example.test') && !m.text.includes('not added'), 1, 8000);
    assert.match(checked!.text, /metadata/i);
    assert.deepEqual(await store.repo.listTargets(), [], 'nothing stored for refused targets');

    fake.sendText(5, user, `/add svc.example.test:${tls.port}`);
    const [added] = await fake.waitForMessages((m) => /Added as/.test(m.text), 1, 8000);
    const [record] = await store.repo.listTargets();
    assert.ok(record, 'the target is stored');
    assert.match(added!.text, new RegExp(`Added as ${record.id}`));
    const buttons = added!.replyMarkup?.inline_keyboard.flat() ?? [];
    const remove = buttons.find((b) => b.text === 'Remove');
    assert.equal(remove?.callback_data, `r:${record.id}`);

    fake.pressButton(added!, user, remove!.callback_data);
    await fake.waitForMessages((m) => m.text.includes(`Removed`) && m.text.includes(record.id));
    assert.deepEqual(await store.repo.listTargets(), []);
  } finally {
    await bot.stop();
    await fake.close();
    await tls.close();
    await store.close();
  }
});
