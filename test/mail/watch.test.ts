// Watched mail domains end to end: chat commands through the real dispatcher, the real mail
// check against a fake DNS server and fake SMTP servers on loopback (certificates generated
// here), the outbox, a scheduler run, and a restart on a SQLite file.
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Keyv from 'keyv';
import { TrustStore } from '../../src/cert/trust.ts';
import { createKeyedLock } from '../../src/commands/channel-lock.ts';
import { createDispatcher } from '../../src/commands/dispatcher.ts';
import type { Reply } from '../../src/chat/types.ts';
import { DnsCache } from '../../src/dns/cache.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { checkMailDomain } from '../../src/mail/check.ts';
import { MailWatch } from '../../src/mail/watch.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { OutboxStore } from '../../src/outbox/store.ts';
import { postDigest } from '../../src/scheduler/digest.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { openStore } from '../../src/store/index.ts';
import { KeyvRepository } from '../../src/store/repository.ts';
import { MailDomainRepository } from '../../src/store/mail-domains.ts';
import { TypedKv } from '../../src/store/kv.ts';
import type { Services } from '../../src/core/services.ts';
import { CHANNEL, FakeChecks, OTHER, replyText } from '../commands/fakes.ts';
import { rr, startFakeDns, type FakeAnswer, type FakeDns } from '../helpers/fake-dns.ts';
import { startSmtpTls } from '../helpers/fake-mail.ts';
import type { FakeServer } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf } from '../helpers/pki.ts';

const log = createLogger({ level: 'silent' });
const root = await makeCa();
const inter = await makeCa({ issuer: root });
const leaf1 = await makeLeaf(inter, { sans: ['mx1.watch.test'] });
// Another curve: the helper reuses one key per key spec, and DANE must see two distinct keys.
const leaf2 = await makeLeaf(inter, { sans: ['mx2.watch.test'], key: { type: 'ec', curve: 'P-384' } });
const spkiHash = (der: Buffer): Buffer => createHash('sha256').update(new X509Certificate(der).publicKey.export({ type: 'spki', format: 'der' })).digest();

describe('chat: watched mail domains', () => {
  let dns: FakeDns;
  let smtp1: FakeServer;
  let smtp2: FakeServer;
  const zone: Record<string, FakeAnswer> = {};
  const mx = (...hosts: [number, string][]): FakeAnswer => ({ answers: hosts.map(([preference, exchange]) => rr('MX', 'watch.test', { preference, exchange })) });
  const setZone = (entries: Record<string, FakeAnswer>): void => {
    for (const k of Object.keys(zone)) delete zone[k];
    Object.assign(zone, {
      'A mx1.watch.test': { ad: true, answers: [rr('A', 'mx1.watch.test', '127.0.0.1')] },
      'A mx2.watch.test': { ad: true, answers: [rr('A', 'mx2.watch.test', '127.0.0.1')] },
      'AAAA mx1.watch.test': { answers: [] },
      'AAAA mx2.watch.test': { answers: [] },
      ...entries,
    });
  };

  before(async () => {
    dns = await startFakeDns((name, type) => zone[`${type} ${name}`]);
    smtp1 = await startSmtpTls(creds(leaf1, inter), 'mx1.watch.test');
    smtp2 = await startSmtpTls(creds(leaf2, inter), 'mx2.watch.test');
  });
  after(async () => {
    await Promise.all([dns.close(), smtp1.close(), smtp2.close()]);
  });

  /** A bot core over `kv`: repository, outbox, real mail checks, watcher and dispatcher. */
  function bot(kv: TypedKv, limit = 50) {
    const repo = new KeyvRepository(kv, 'test', { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false });
    const outbox = new OutboxStore(kv, repo.index);
    // Real time: the certificates are generated now.
    let now = new Date();
    const check = (domain: string) =>
      checkMailDomain(domain, {
        dns: new DnsCache(new DnsClient({ servers: [dns.server], timeoutMs: 1000 })).run(),
        trust: TrustStore.fromPem(root.certPem),
        timeoutMs: 3000,
        warnDays: 30,
        critDays: 7,
        now,
        smtpPort: (h) => (h === 'mx1.watch.test' ? smtp1.port : smtp2.port),
      });
    const services: Services = {
      mail: { checkDomain: check },
      repo,
      checks: new FakeChecks(repo),
      now: () => now,
      defaults: { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false, warnDays: 30, critDays: 7 },
      limits: { maxTargetsPerChannel: limit },
      channelLock: createKeyedLock(),
    };
    const watch = new MailWatch({
      repo: new MailDomainRepository(kv, repo.index),
      outbox,
      check,
      settings: (c) => repo.getChannelSettings(c),
      countTargets: async (c) => (await repo.listTargets(c)).length,
      channelLock: services.channelLock,
      critDays: 7,
      concurrency: 2,
      now: () => now,
      log,
    });
    services.mailWatch = watch;
    const dispatch = createDispatcher({ services, log });
    const run = async (line: string, channel = CHANNEL): Promise<Reply[]> => {
      const [name = '', ...rest] = line.split(' ');
      const replies: Reply[] = [];
      await dispatch({ channel, user: { id: 'u1' }, name, text: rest.join(' ') }, async (r) => void replies.push(r));
      return replies;
    };
    const one = async (line: string, channel = CHANNEL): Promise<Reply> => {
      const r = await run(line, channel);
      assert.equal(r.length, 1, JSON.stringify(r));
      return r[0]!;
    };
    const scheduler = new Scheduler({ repo, checker: services.checks, mail: watch, log, checkSchedule: '0 */6 * * *', concurrency: 2, jitterMs: 0 });
    return { repo, outbox, watch, services, one, scheduler, advance: (ms: number) => void (now = new Date(now.getTime() + ms)) };
  }
  const memory = () => new TypedKv(new Keyv(), () => {});
  const idOf = (r: Reply): string => /Added as ([a-z0-9]+)/.exec(replyText(r))?.[1] ?? assert.fail(replyText(r));

  it('add mail: stores the domain, checks it and replies with the tree: domain, then each host with days left', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test'], [20, 'mx2.watch.test']) });
    const b = bot(memory());
    const reply = await b.one('add mail watch.test "Corp mail"');
    assert.equal(reply.status, 'ok', replyText(reply));
    assert.match(reply.title, /^OK {2}watch\.test {2}\(MX; MTA-STS none; TLS-RPT none\)$/);
    assert.match(reply.items?.[0] ?? '', /^├ mx 10 {2}mx1\.watch\.test:\d+ {2}OK {2}\d+ days {2}DANE none$/);
    assert.match(reply.items?.[1] ?? '', /^└ mx 20 {2}mx2\.watch\.test:\d+ {2}OK {2}\d+ days {2}DANE none$/);
    const id = idOf(reply);
    assert.match(replyText(reply), new RegExp(`Watched as ${id} \\(Corp mail\\)`));
    assert.deepEqual(reply.buttons?.map((x) => x.command), [`check ${id}`, `mute ${id} 7d`, `remove ${id}`]);
    // The first check is a silent baseline.
    assert.equal((await b.outbox.pending()).length, 0);

    const again = await b.one('add mail WATCH.test.');
    assert.match(again.title, new RegExp(`already watched here as ${id}`));

    const list = await b.one('list');
    assert.equal(list.title, '0 targets and 1 mail domain in this channel: 1 ok');
    assert.match(list.items?.[0] ?? '', new RegExp(`^\\[OK\\] ${id} mail watch\\.test \\(2 hosts\\) — ok, \\d+ days left — Corp mail$`));
    assert.match(list.items?.[1] ?? '', /^ {4}├ mx 10 {2}mx1\.watch\.test:\d+ {2}OK/);
    assert.match(list.items?.[2] ?? '', /^ {4}└ mx 20 {2}mx2\.watch\.test:\d+ {2}OK/);
    assert.equal(list.items?.length, 3);
  });

  it('add mail: bad input gets a clear reply and stores nothing', async () => {
    const b = bot(memory());
    assert.match(replyText(await b.one('add mail 10.0.0.1')), /not a mail domain/);
    assert.match(replyText(await b.one('add mail watch.test --mode starttls')), /"add mail" takes only a domain/);
    assert.match(replyText(await b.one('add mail exa$mple.com')), /not a mail domain/);
    assert.equal((await b.watch.repo.list()).length, 0);
  });

  it('add mail: a domain counts as one entry of the channel limit, also against concurrent adds', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']), 'MX other.test': { answers: [] }, 'MX third.test': { answers: [] } });
    const b = bot(memory(), 2);
    await b.one('add a.example.com:443');
    const replies = await Promise.all([b.one('add mail watch.test'), b.one('add mail other.test'), b.one('add mail third.test')]);
    const refused = replies.filter((r) => /the limit is 2/.test(replyText(r)));
    assert.equal(refused.length, 2, replies.map(replyText).join('\n---\n'));
    assert.equal((await b.watch.repo.list(CHANNEL)).length, 1);
    // The target add counts the domain too, and concurrent adds of both kinds share one lock.
    assert.match(replyText(await b.one('add b.example.com:443')), /the limit is 2/);
    assert.equal((await b.repo.listTargets(CHANNEL)).length, 1);
  });

  it('check all: checks the watched mail domains too, and counts them in the summary', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']) });
    const b = bot(memory());
    const id = idOf(await b.one('add mail watch.test'));
    const before = (await b.watch.repo.getState(id))?.checkedAt;
    b.advance(60_000);
    const replies = await (async () => {
      const out: Reply[] = [];
      const dispatch = createDispatcher({ services: b.services, log });
      await dispatch({ channel: CHANNEL, user: { id: 'u1' }, name: 'check', text: 'all' }, async (r) => void out.push(r));
      return out;
    })();
    const last = replies.at(-1)!;
    assert.equal(replies[0]?.title, 'Checking 0 targets and 1 mail domain…');
    assert.match(last.title, /^Checked 0 targets and 1 mail domain: 1 ok$/);
    assert.match(last.items?.[0] ?? '', new RegExp(`^\\[OK\\] ${id} mail watch\\.test`));
    assert.notEqual((await b.watch.repo.getState(id))?.checkedAt, before, 'the domain was checked again');
  });

  it('digest: a watched mail domain is a row of its channel\'s digest', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']) });
    const b = bot(memory());
    const id = idOf(await b.one('add mail watch.test'));
    await b.repo.setChannelSettings(CHANNEL, { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: true });
    assert.equal(await postDigest({ repo: b.repo, mailDomains: b.watch.repo, outbox: b.outbox }, new Date()), 1);
    const [entry] = await b.outbox.pending();
    assert.equal(entry?.message.title, 'Certificate digest: 0 targets and 1 mail domain');
    assert.match(entry?.message.items?.[0] ?? '', new RegExp(`^OK mail watch\\.test: \\d+ days left \\[${id}\\]$`));
  });

  it('add: a target add and a mail add at once cannot both pass the last free entry', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']) });
    const b = bot(memory(), 1);
    const replies = await Promise.all([b.one('add mail watch.test'), b.one('add a.example.com:443')]);
    assert.equal(replies.filter((r) => /the limit is 1/.test(replyText(r))).length, 1, replies.map(replyText).join('\n---\n'));
    assert.equal((await b.watch.repo.list(CHANNEL)).length + (await b.repo.listTargets(CHANNEL)).length, 1);
  });

  it('scheduled run: re-resolves, announces a new host and a retired one once each through the outbox', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']) });
    const b = bot(memory());
    const id = idOf(await b.one('add mail watch.test'));
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test'], [20, 'mx2.watch.test']) });
    b.advance(3_600_000);
    await b.scheduler.tick('scheduled');
    let pending = await b.outbox.pending();
    assert.deepEqual(pending.map((e) => e.message.title), [`watch.test: new MX host mx2.watch.test:${smtp2.port} (mx 20)`]);
    assert.deepEqual(pending[0]!.channel, CHANNEL);
    assert.equal(pending[0]!.origin, `mail:${id} host-added:smtp://mx2.watch.test:${smtp2.port}:1`);
    await b.scheduler.tick('scheduled');
    assert.equal((await b.outbox.pending()).length, 1, 'announced once');

    setZone({ 'MX watch.test': mx([20, 'mx2.watch.test']) });
    await b.scheduler.tick('scheduled');
    pending = await b.outbox.pending();
    assert.deepEqual(pending.map((e) => e.message.title).slice(1), [`watch.test: mx1.watch.test:${smtp1.port} (mx 10) is no longer a host`]);
    const tree = await b.one(`check ${id}`);
    assert.deepEqual(tree.items?.map((i) => i.slice(0, 12)), ['└ mx 20  mx2']);

    // A failing MX lookup (SERVFAIL) keeps the hosts: unknown is not gone.
    setZone({ 'MX watch.test': { rcode: 'SERVFAIL' } });
    await b.scheduler.tick('scheduled');
    const state = await b.watch.repo.getState(id);
    assert.deepEqual(state?.hosts.map((h) => h.host), ['mx2.watch.test']);
    assert.equal((await b.outbox.pending()).length, 2);
  });

  it('scheduled run: a TLSA record matching no key becomes a DANE_MISMATCH problem after FAIL_AFTER runs', async () => {
    const tlsa = (data: Buffer): FakeAnswer => ({ ad: true, answers: [rr('TLSA', '_25._tcp.mx1.watch.test', { usage: 3, selector: 1, matchingType: 1, certificate: data })] });
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']), 'TLSA _25._tcp.mx1.watch.test': tlsa(spkiHash(leaf1.der)) });
    const b = bot(memory());
    const added = await b.one('add mail watch.test');
    assert.match(added.items?.[0] ?? '', /DANE match$/);
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']), 'TLSA _25._tcp.mx1.watch.test': tlsa(spkiHash(leaf2.der)) });
    await b.scheduler.tick('scheduled');
    assert.equal((await b.outbox.pending()).length, 0, 'one failing run is not yet a problem');
    await b.scheduler.tick('scheduled');
    const pending = await b.outbox.pending();
    assert.deepEqual(pending.map((e) => e.message.title), [`watch.test mx 10 (mx1.watch.test:${smtp1.port}) has a problem: DANE_MISMATCH`]);
    assert.equal(pending[0]!.message.status, 'critical');
  });

  it('mute, unmute, check and remove work by domain name or id, only in the owning channel', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']) });
    const b = bot(memory());
    const id = idOf(await b.one('add mail watch.test'));
    assert.match((await b.one('mute watch.test 2d')).title, new RegExp(`^Muted mail domain watch\\.test \\(${id}\\) for 2d`));
    assert.match((await b.one(`unmute ${id}`)).title, /^Unmuted mail domain watch\.test/);
    assert.match(replyText(await b.one(`remove ${id}`, OTHER)), /No target/);
    assert.match(replyText(await b.one('mute watch.test 2d', OTHER)), /No target/);
    const checked = await b.one('check watch.test');
    assert.match(checked.title, /^OK {2}watch\.test/);
    assert.match(replyText(checked), new RegExp(`Watched as ${id}`));
    const checkMail = await b.one('check mail watch.test');
    assert.match(replyText(checkMail), new RegExp(`Watched as ${id}`));
    const elsewhere = await b.one('check mail watch.test', OTHER);
    assert.match(replyText(elsewhere), /Checked once; not watched here \(\/add mail watch\.test watches it\)/);
    assert.match((await b.one('remove watch.test')).title, new RegExp(`^Removed mail domain watch\\.test \\(${id}\\) and its hosts`));
    assert.equal(await b.watch.repo.getState(id), undefined);
    assert.equal((await b.one('list')).title, 'No targets in this channel yet');
  });

  it('a name that is both a target and a watched domain asks for the id', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test']) });
    const b = bot(memory());
    await b.one('add watch.test');
    await b.one('add mail watch.test');
    assert.match(replyText(await b.one('remove watch.test')), /names both the target [a-z0-9]+ and the mail domain [a-z0-9]+ here; use the id/);
    assert.equal((await b.watch.repo.list()).length, 1);
    assert.equal((await b.repo.listTargets()).length, 1);
  });

  it('restart: the domain, its hosts and their alert memory survive closing and reopening the SQLite store', async () => {
    setZone({ 'MX watch.test': mx([10, 'mx1.watch.test'], [20, 'mx2.watch.test']) });
    const dir = await mkdtemp(join(tmpdir(), 'certwatch-mail-'));
    try {
      const open = () => openStore({ storeUrl: `sqlite://${join(dir, 'db.sqlite')}`, replicaId: 'r1', defaults: { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false }, onInvalid: () => {} });
      const s1 = await open();
      const b1 = bot(s1.kv);
      const id = idOf(await b1.one('add mail watch.test "Corp"'));
      await s1.close();

      const s2 = await open();
      const b2 = bot(s2.kv);
      const list = await b2.one('list');
      assert.match(list.items?.[0] ?? '', new RegExp(`^\\[OK\\] ${id} mail watch\\.test \\(2 hosts\\)`));
      assert.equal(list.items?.length, 3);
      const state = await b2.watch.repo.getState(id);
      assert.deepEqual(Object.keys(state?.alerts ?? {}).sort(), ['domain', `smtp://mx1.watch.test:${smtp1.port}`, `smtp://mx2.watch.test:${smtp2.port}`]);
      // The next run after the restart continues from the stored hosts: no host is "new".
      await b2.scheduler.tick('scheduled');
      assert.equal((await b2.outbox.pending()).length, 0);
      await s2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
