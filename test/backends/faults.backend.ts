// Runtime faults (issue 10, item 2) against real servers: the store server stops in the middle
// of a scheduled run and starts again. Each backend gets a private server (private-server.ts)
// with persistence, so a stop/start keeps the data like production and the shared servers of
// the other files stay up. Named failures within 30 s, no hang, nothing acknowledged lost,
// recovery without a restart, /healthz 503 while down, and no handle left after stop().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeliveryError, type ChannelRef, type ChannelSender, type Reply } from '../../src/chat/types.ts';
import type { CertificateInfo } from '../../src/cert/types.ts';
import { parseConfig } from '../../src/config.ts';
import { startBot } from '../../src/main.ts';
import type { ProbeFn } from '../../src/monitor/index.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { privatePostgres, privateRedis, type PrivateServer } from './private-server.ts';

const HOSTS = ['a.example.com', 'b.example.com', 'c.example.com'];
const CHANNEL: ChannelRef = { platform: 'console', channelId: 'ops' };

/** Every failure must be named in the log within this long (issue 10 target). */
const NAMED_WITHIN_MS = 30_000;

/** A fake probe: days left per host, and a gate that holds probes until released. */
function fakeProbe(): { probe: ProbeFn; days: Map<string, number>; hold(): { started: Promise<void>; release(): void } } {
  const days = new Map<string, number>();
  let gate: { count: number; reached: () => void; open: Promise<void> } | undefined;
  const probe: ProbeFn = async (target) => {
    if (gate !== undefined) {
      if (--gate.count === 0) gate.reached();
      await gate.open;
    }
    const left = days.get(target.host) ?? 42;
    const cert: CertificateInfo = {
      subject: `CN=${target.host}`, issuer: 'CN=ca', sans: [target.host], notBefore: '2025-01-01T00:00:00Z',
      notAfter: new Date(Date.now() + left * 86_400_000).toISOString(), daysLeft: left,
      serialNumber: '1', fingerprint256: `AB:${target.host}`, keyType: 'EC', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false,
    };
    const status = left <= 7 ? 'critical' : 'ok';
    return [{ target, address: '192.0.2.10', status, problems: [], notes: [], error: null, tls: { version: 'TLSv1.3', cipher: 'x' }, certificate: cert, chain: [cert], trusted: true, hostnameMatch: true, checkedAt: new Date().toISOString(), timings: { totalMs: 1 } }];
  };
  return {
    probe,
    days,
    hold() {
      let reached!: () => void;
      let release!: () => void;
      const started = new Promise<void>((r) => (reached = r));
      const open = new Promise<void>((r) => (release = r));
      gate = { count: HOSTS.length, reached, open };
      return {
        started,
        release: () => {
          gate = undefined;
          release();
        },
      };
    },
  };
}

/** A chat platform that refuses sends (transiently) until told to accept; records what it accepted. */
function sink(): ChannelSender & { accepting: boolean; delivered: Reply[] } {
  const s = {
    platform: 'console' as const,
    accepting: false,
    delivered: [] as Reply[],
    async send(_c: ChannelRef, message: Reply): Promise<void> {
      if (!s.accepting) throw new DeliveryError('platform down for the test');
      s.delivered.push(message);
    },
  };
  return s;
}

async function until(what: string | (() => string), ms: number, cond: () => boolean | Promise<boolean>): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    assert.ok(Date.now() < end, `${typeof what === 'string' ? what : what()}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Handles that keep a process alive (sockets, servers, timers): a stopped bot must leave none of its own. */
function liveHandles(): string[] {
  return process.getActiveResourcesInfo().filter((t) => t !== 'PipeWrap' && t !== 'TTYWrap' && t !== 'ProcessWrap' && t !== 'FSReqCallback');
}

for (const make of [privateRedis, privatePostgres]) {
  test(`faults (${make === privateRedis ? 'redis' : 'postgres'}): the store stopping mid-run is named within 30 s, commands get a temporary error, the run skips, /healthz is 503; after the restart the bot recovers without a restart, delivers the pending alert once and re-decides the lost ones; stop() leaves no handle`, async () => {
    const server: PrivateServer = await make();
    await server.start();
    const lines: Record<string, unknown>[] = [];
    const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(JSON.parse(l) as Record<string, unknown>) } });
    const logged = (msg: string): Record<string, unknown>[] => lines.filter((l) => l.msg === msg || l.event === msg);
    const fake = fakeProbe();
    const platform = sink();
    const config = parseConfig({ DATA_DIR: '/nonexistent', STORE_URL: server.url, HTTP_PORT: '0', HTTP_HOST: '127.0.0.1', CONSOLE: 'off', CHECK_JITTER_MS: '0' });
    const bot = await startBot(config, { probe: fake.probe, console: false, schedule: false, log, senders: [platform], outbox: { pollMs: 100, baseDelayMs: 100 } });
    let stopped = false;
    const ask = async (name: string, text = ''): Promise<Reply[]> => {
      const replies: Reply[] = [];
      await bot.dispatcher({ channel: CHANNEL, user: { id: 'u1' }, name, text }, async (r) => void replies.push(r));
      return replies;
    };
    const health = async (): Promise<number> => {
      const res = await fetch(`http://127.0.0.1:${bot.httpPort}/healthz`, { signal: AbortSignal.timeout(10_000) });
      await res.body?.cancel();
      return res.status;
    };
    const alertsFor = (host: string): number => platform.delivered.filter((m) => m.title.startsWith(`Certificate for ${host}:443 expires`)).length;
    try {
      for (const host of HOSTS) {
        const replies = await ask('add', host);
        assert.ok(replies.some((r) => r.title.includes(host)), JSON.stringify(replies));
      }
      assert.equal(await health(), 200);

      // An acknowledged decision: a's alert is persisted in the outbox, the platform refuses it for now.
      fake.days.set('a.example.com', 5);
      assert.equal((await bot.scheduler.tick('scheduled')).checked, 3);
      await until('the outbox tried a', 10_000, () => logged('outbox.retry').length > 0);

      // A scheduled run whose probes are in flight when the server stops: b and c cross a threshold
      // then, but nothing can be recorded, so nothing is decided (and nothing acknowledged).
      fake.days.set('b.example.com', 5);
      fake.days.set('c.example.com', 5);
      const gate = fake.hold();
      const running = bot.scheduler.tick('scheduled');
      await gate.started;
      await server.stop();
      const downAt = Date.now();
      platform.accepting = true;
      gate.release();
      const report = await running;
      assert.ok(Date.now() - downAt < NAMED_WITHIN_MS, 'the run hung');
      assert.equal(report.checked, 0, JSON.stringify(report));
      const named = logged('run.store_unavailable');
      assert.equal(named.length, 1, 'one line per run, not one per target');
      assert.match(String(named[0]!.error), /^store unavailable: /);

      // While down: a command answers the temporary error, a fire is skipped and logged, /healthz is 503.
      const down = await ask('list');
      assert.equal(down[0]?.title, 'The store is unavailable right now', JSON.stringify(down));
      assert.match(down[0]?.text?.join(' ') ?? '', /temporary/);
      await (bot.scheduler as unknown as { guarded(r: 'scheduled'): Promise<unknown> }).guarded('scheduled');
      assert.equal(logged('run.skipped_store_unavailable').length, 1);
      assert.equal(await health(), 503);
      await until('the outbox names the outage', NAMED_WITHIN_MS, () => logged('outbox.drain_failed').length > 0);
      assert.ok(Date.now() - downAt < NAMED_WITHIN_MS, 'every failure named within 30 s');
      assert.equal(platform.delivered.length, 0, 'nothing is delivered without the store (it could not be marked)');

      // Back: no restart of the bot, the pending alert goes out once, the lost decisions are made again.
      await server.start();
      await until('/healthz 200 again', 20_000, async () => (await health()) === 200);
      await until(() => `the pending alert of a is delivered (${JSON.stringify(platform.delivered.map((m) => m.title))} ${JSON.stringify(lines.filter((l) => String(l.msg).startsWith('outbox') || String(l.msg).startsWith('alerts')).slice(-4).map((l) => [l.msg, l.error ?? (l.err as { message?: string } | undefined)?.message, l.retryInMs]))})`, 20_000, () => alertsFor('a.example.com') === 1);
      const listed = JSON.stringify(await ask('list'));
      for (const host of HOSTS) assert.ok(listed.includes(host), listed);
      assert.equal((await bot.scheduler.tick('scheduled')).checked, 3);
      await until('the alerts of b and c are delivered', 20_000, () => alertsFor('b.example.com') === 1 && alertsFor('c.example.com') === 1);
      await new Promise((r) => setTimeout(r, 500)); // a few more worker passes: still exactly once
      assert.deepEqual(HOSTS.map(alertsFor), [1, 1, 1], JSON.stringify(platform.delivered.map((m) => m.title)));
      assert.equal((await bot.scheduler.tick('scheduled')).checked, 3);

      await bot.stop();
      stopped = true;
      // With the server gone too, a client reopened after stop() would reconnect for ever (it
      // did: keyv's Redis adapter reconnects a closed client on the next command). Driver
      // timers may take a moment to fire and end; nothing may stay.
      await server.stop();
      // A reconnecting client always holds a socket or its backoff timer, so "none" never comes.
      await until(() => `no handle left after stop() (left: ${liveHandles().join(', ')})`, 8000, () => liveHandles().length === 0);
    } finally {
      if (!stopped) await bot.stop();
      await server.dispose();
    }
  });
}
