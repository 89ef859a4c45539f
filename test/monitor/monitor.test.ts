import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TrustStore } from '../../src/cert/trust.ts';
import type { CertificateInfo } from '../../src/cert/types.ts';
import type { TargetRecord } from '../../src/core/services.ts';
import { CheckAbortedError, Monitor, type ProbeFn } from '../../src/monitor/index.ts';
import { createLogger } from '../../src/ops/logger.ts';
import { OutboxStore } from '../../src/outbox/index.ts';
import { Prober, type ProbeOptions } from '../../src/probe/probe.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { createAddressPolicy } from '../../src/security/index.ts';
import { openStore } from '../../src/store/index.ts';
import { startTlsServer } from '../helpers/fake-server.ts';
import { creds, makeCa, makeLeaf } from '../helpers/pki.ts';

const log = createLogger({ level: 'silent' });
const T0 = Date.UTC(2026, 0, 1);

function record(id: string, input: string, extra: Partial<TargetRecord> = {}): TargetRecord {
  return { id, target: parseTarget(input), channel: { platform: 'console', channelId: 'console' }, addedBy: { id: 'u' }, addedAt: new Date(T0).toISOString(), ...extra };
}

function certResult(r: TargetRecord, daysLeft: number): ProbeResult {
  const cert: CertificateInfo = {
    subject: 'CN=x', issuer: 'CN=ca', sans: [], notBefore: '2025-01-01T00:00:00Z', notAfter: '2026-02-01T00:00:00Z', daysLeft,
    serialNumber: '1', fingerprint256: 'AB:CD', keyType: 'EC', keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false,
  };
  return { target: r.target, address: '192.0.2.1', status: 'ok', problems: [], error: null, tls: { version: 'TLSv1.3', cipher: 'x' }, certificate: cert, chain: [cert], trusted: true, hostnameMatch: true, checkedAt: '', timings: { totalMs: 1 } };
}

async function setup(probe: ProbeFn, signal?: AbortSignal) {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false }, onInvalid: () => {} });
  const outbox = new OutboxStore(store.kv, store.repo.index);
  let now = T0;
  let kicks = 0;
  const monitor = new Monitor({
    repo: store.repo, outbox, probe, trust: TrustStore.fromPem([]), addressPolicy: () => null, timeoutMs: 1000, warnDays: 30, critDays: 7,
    now: () => new Date(now), log, onEnqueued: () => kicks++, ...(signal ? { signal } : {}),
  });
  return { store, outbox, monitor, advance: (days: number) => (now += days * 86_400_000), kicks: () => kicks };
}

test('monitor: records the latest results and enqueues the alert for a crossed threshold', async () => {
  let days = 40;
  const { store, outbox, monitor, advance, kicks } = await setup(async (t) => [certResult(r, days)]);
  const r = record('abc123', 'mail.example.com:587');
  await store.repo.addTarget(r);
  await monitor.checkStored(r);
  assert.equal((await store.repo.getLatest('abc123'))?.results[0]?.certificate?.daysLeft, 40);
  assert.equal((await outbox.pending()).length, 0, 'the first check is a baseline');
  advance(35);
  days = 5;
  const latest = await monitor.checkStored(r);
  assert.equal(latest.status, 'ok');
  const pending = await outbox.pending();
  assert.equal(pending.length, 1);
  assert.match(pending[0]!.message.title, /expires in 5 days/);
  assert.deepEqual(pending[0]!.channel, r.channel);
  assert.equal(kicks(), 1);
  await monitor.checkStored(r);
  assert.equal((await outbox.pending()).length, 1, 'a repeated check decides nothing new');
});

test('monitor: a mute stored on the target silences alerts decided during a run', async () => {
  let days = 40;
  const { store, outbox, monitor, advance } = await setup(async (t) => [certResult(stale, days)]);
  const stale = record('abc124', 'mail.example.com:587');
  await store.repo.addTarget(stale);
  await monitor.checkStored(stale);
  await store.repo.updateTarget({ ...stale, mutedUntil: new Date(T0 + 60 * 86_400_000).toISOString() });
  advance(35);
  days = 5;
  await monitor.checkStored(stale); // the caller's copy is not muted; the stored one is
  assert.equal((await outbox.pending()).length, 0);
});

test('monitor: concurrent checks of one target share a single probe', async () => {
  let probes = 0;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const { store, monitor } = await setup(async (t) => {
    probes++;
    await gate;
    return [certResult(r, 50)];
  });
  const r = record('abc125', 'a.example.com');
  await store.repo.addTarget(r);
  const both = Promise.all([monitor.checkStored(r), monitor.checkStored(r)]);
  release();
  const [a, b] = await both;
  assert.equal(probes, 1);
  assert.equal(a, b);
});

test('monitor: a target removed while it was probed is not recorded', async () => {
  const { store, monitor } = await setup(async () => {
    await store.repo.removeTarget('abc126');
    return [certResult(r, 50)];
  });
  const r = record('abc126', 'a.example.com');
  await store.repo.addTarget(r);
  await monitor.checkStored(r);
  assert.equal(await store.repo.getLatest('abc126'), undefined);
  assert.equal(await store.repo.getAlertState('abc126'), undefined);
});

test('monitor: a target removed while its result is being recorded leaves no result or alert state behind', async () => {
  const { store, monitor } = await setup(async () => [certResult(r, 50)]);
  const r = record('abc128', 'a.example.com');
  await store.repo.addTarget(r);
  // The removal lands after the monitor's re-read of the target, before its last write.
  const settings = store.repo.getChannelSettings.bind(store.repo);
  store.repo.getChannelSettings = async (channel) => {
    await store.repo.removeTarget('abc128');
    return settings(channel);
  };
  await monitor.checkStored(r);
  assert.equal(await store.repo.getTarget('abc128'), undefined);
  assert.equal(await store.repo.getLatest('abc128'), undefined, 'the removed target has no latest result');
  assert.equal(await store.repo.getAlertState('abc128'), undefined, 'the removed target has no alert state');
});

test('monitor: probes carry the deadline, the address policy and PROBE_IP_FAMILY', async () => {
  const seen: ProbeOptions[] = [];
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
  const policy = (): string | null => null;
  const monitor = new Monitor({
    repo: store.repo, outbox: new OutboxStore(store.kv, store.repo.index), probe: async (_t, opts) => (seen.push(opts), []),
    trust: TrustStore.fromPem([]), addressPolicy: policy, timeoutMs: 1234, warnDays: 30, critDays: 7, family: 4, now: () => new Date(T0), log,
  });
  await monitor.checkAdHoc(record('fam001', 'dual.example.com').target);
  assert.equal(seen[0]?.family, 4);
  assert.equal(seen[0]?.timeoutMs, 1234);
  assert.equal(seen[0]?.addressPolicy, policy);
});

test('monitor: a check abandoned at shutdown records nothing', async () => {
  const ac = new AbortController();
  const { store, monitor } = await setup(async (_t, opts: ProbeOptions) => {
    assert.equal(opts.signal?.aborted, false);
    ac.abort();
    return [certResult(r, 50)];
  }, ac.signal);
  const r = record('abc127', 'a.example.com');
  await store.repo.addTarget(r);
  await assert.rejects(monitor.checkStored(r), CheckAbortedError);
  assert.equal(await store.repo.getLatest('abc127'), undefined);
});

test('monitor: the real prober gets the SSRF policy and the per-target CA', async () => {
  const root = await makeCa({ name: 'Private Root' });
  const leaf = await makeLeaf(root, { name: 'localhost', sans: ['localhost', '127.0.0.1'] });
  const server = await startTlsServer(creds(leaf));
  try {
    const prober = new Prober({ trust: TrustStore.fromPem([]) });
    const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
    const make = (allowPrivate: boolean) =>
      new Monitor({
        repo: store.repo, outbox: new OutboxStore(store.kv, store.repo.index), probe: (t, o) => prober.probe(t, o), trust: TrustStore.fromPem([]),
        addressPolicy: createAddressPolicy({ allowPrivate }), timeoutMs: 3000, warnDays: 30, critDays: 7, now: () => new Date(), log,
      });
    const r = record('abc128', `127.0.0.1:${server.port}`, { caPem: root.certPem });
    await store.repo.addTarget(r);
    const blocked = await make(false).checkStored(r);
    assert.equal(blocked.results[0]?.error?.code, 'BLOCKED_TARGET');
    const allowed = await make(true).checkStored(r);
    assert.equal(allowed.results[0]?.error, null);
    assert.equal(allowed.results[0]?.trusted, true, 'trusted through the target CA');
    const adHoc = await make(true).checkAdHoc(r.target);
    assert.equal(adHoc[0]?.trusted, false, 'ad hoc without the CA is untrusted');
  } finally {
    await server.close();
  }
});
