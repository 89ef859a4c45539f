import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PolicySettings } from '../../src/alerts/policy.ts';
import { decideMailAlerts, hostKey } from '../../src/mail/alerts.ts';
import type { MailHost, MailReport } from '../../src/mail/check.ts';
import type { MailFinding } from '../../src/mail/codes.ts';
import { worstStatus } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import type { MailDomainRecord, MailDomainState } from '../../src/store/mail-domains.ts';
import Keyv from 'keyv';
import { MailDomainRepository } from '../../src/store/mail-domains.ts';
import { TypedKv } from '../../src/store/kv.ts';
import { SegmentIndex } from '../../src/store/segments.ts';
import { CHANNEL, makeResult, NOW, type FakeOutcome } from '../commands/fakes.ts';

const record: MailDomainRecord = { id: 'dom234', domain: 'example.test', channel: CHANNEL, addedBy: { id: 'u1' }, addedAt: NOW.toISOString() };
const settings: PolicySettings = { thresholds: [30, 14, 7, 3, 1], failAfter: 2, critDays: 7 };
const FP1 = 'AA:'.repeat(31) + 'AA';
const FP2 = 'BB:'.repeat(31) + 'BB';
const KEY1 = 'a'.repeat(64);
const KEY2 = 'b'.repeat(64);

interface HostSpec {
  host: string;
  pref?: number;
  outcome?: FakeOutcome;
  findings?: MailFinding[];
  dane?: 'match' | 'mismatch';
  leafKeys?: string[];
}

function host(s: HostSpec): MailHost {
  const target = { ...parseTarget(`smtp://${s.host}`), port: 25 };
  const results = [makeResult(target, { fingerprint: FP1, ...s.outcome })];
  const findings = s.findings ?? [];
  const status = worstStatus([...results.map((r) => r.status), ...findings.map((f) => (f.severity === 'note' ? 'ok' : f.severity))]);
  return {
    role: 'mx',
    label: `mx ${s.pref ?? 10}`,
    host: s.host,
    port: 25,
    target,
    status,
    daysLeft: results[0]!.certificate?.daysLeft ?? null,
    results,
    dane: s.dane === undefined ? null : { state: s.dane, records: [{ record: '3 1 1 aaaa', usable: true, matched: s.dane === 'match' }], findings: [] },
    findings,
    leafKeys: s.leafKeys ?? [KEY1],
  };
}

function report(hosts: HostSpec[], o: { findings?: MailFinding[]; failedLookups?: string[] } = {}): MailReport {
  const hs = hosts.map(host);
  return {
    domain: 'example.test',
    status: worstStatus(hs.map((h) => h.status)),
    checkedAt: NOW.toISOString(),
    source: o.failedLookups?.includes('MX') ? 'none' : 'mx',
    failedLookups: o.failedLookups ?? [],
    hosts: hs,
    mtaSts: { state: 'none' },
    tlsRpt: { state: 'none' },
    findings: o.findings ?? [],
  };
}

/** Runs reports in order, one hour apart; returns each run's events and the last state. */
function runs(reports: MailReport[], s: PolicySettings = settings, start?: MailDomainState): { events: string[][]; state: MailDomainState; titles: string[][]; texts: string[][] } {
  let state = start;
  const events: string[][] = [];
  const titles: string[][] = [];
  const texts: string[][] = [];
  reports.forEach((r, i) => {
    const out = decideMailAlerts(state, r, record, new Date(NOW.getTime() + i * 3_600_000), s);
    state = out.state;
    events.push(out.messages.map((m) => m.event));
    titles.push(out.messages.map((m) => m.reply.title));
    texts.push(out.messages.map((m) => (m.reply.text ?? []).join('\n')));
  });
  return { events, state: state!, titles, texts };
}

const mx1 = { host: 'mx1.example.test' };
const mx2 = { host: 'mx2.example.test', pref: 20 };
const k1 = 'smtp://mx1.example.test:25';
const k2 = 'smtp://mx2.example.test:25';

describe('mail alert policy', () => {
  it('mail alerts: the first run after add is a silent baseline that stores every host', () => {
    const { events, state } = runs([report([mx1, mx2])]);
    assert.deepEqual(events, [[]]);
    assert.deepEqual(state.hosts.map((h) => h.key), [k1, k2]);
    assert.deepEqual(Object.keys(state.alerts).sort(), ['domain', k1, k2]);
  });

  it('mail alerts: a host DNS newly lists is announced once, with the host line and a per-episode event', () => {
    const { events, titles } = runs([report([mx1]), report([mx1, mx2]), report([mx1, mx2])]);
    assert.deepEqual(events, [[], [`host-added:${k2}:1`], []]);
    assert.match(titles[1]![0]!, /^example\.test: new MX host mx2\.example\.test:25 \(mx 20\)$/);
  });

  it('mail alerts: a host DNS no longer lists is retired once, its alert memory dropped; back later it is a new episode', () => {
    const { events, state, titles } = runs([report([mx1, mx2]), report([mx1, mx2]), report([mx1]), report([mx1]), report([mx1, mx2]), report([mx1])]);
    assert.deepEqual(events, [[], [], [`host-removed:${k2}:0`], [], [`host-added:${k2}:1`], [`host-removed:${k2}:1`]]);
    assert.match(titles[2]![0]!, /mx2\.example\.test:25 \(mx 20\) is no longer a host/);
    assert.deepEqual(state.hosts.map((h) => h.key), [k1]);
    assert.equal(state.alerts[k2], undefined);
  });

  it('mail alerts: the same run decided twice (crash before the state was saved) makes the same events', () => {
    const first = runs([report([mx1])]).state;
    const a = decideMailAlerts(first, report([mx1, mx2]), record, NOW, settings);
    const b = decideMailAlerts(first, report([mx1, mx2]), record, NOW, settings);
    assert.deepEqual(a.messages.map((m) => m.event), b.messages.map((m) => m.event));
    assert.equal(a.messages.length, 1);
  });

  it('mail alerts: hosts behind a failed MX lookup are kept, not retired', () => {
    const dnsFail: MailFinding = { code: 'DNS_FAILED', severity: 'critical', message: 'MX of example.test: SERVFAIL (server failure)' };
    const { events, state, titles } = runs([report([mx1, mx2]), report([], { failedLookups: ['MX'], findings: [dnsFail] }), report([], { failedLookups: ['MX'], findings: [dnsFail] })]);
    assert.deepEqual(events, [[], [], ['domain|problem:DNS_FAILED:1']]);
    assert.deepEqual(state.hosts.map((h) => h.key), [k1, k2]);
    assert.match(titles[2]![0]!, /^mail domain example\.test has a problem: DNS_FAILED$/);
  });

  it('mail alerts: a renewed certificate on one host is one "renewed" message for that host', () => {
    const { events, titles } = runs([report([mx1, mx2]), report([mx1, { ...mx2, outcome: { fingerprint: FP2 } }])]);
    assert.deepEqual(events, [[], [`${k2}|renewed:${FP2}`]]);
    assert.match(titles[1]![0]!, /^Certificate for example\.test mx 20 \(mx2\.example\.test:25\) was renewed$/);
  });

  it('mail alerts: thresholds per certificate fingerprint apply to each host', () => {
    const { events } = runs([report([mx1]), report([{ ...mx1, outcome: { fingerprint: FP1, daysLeft: 13 } }]), report([{ ...mx1, outcome: { fingerprint: FP1, daysLeft: 12 } }])]);
    assert.deepEqual(events, [[], [`${k1}|threshold:${FP1}:14`], []]);
  });

  it('mail alerts: DANE_MISMATCH alerts after FAIL_AFTER runs and recovers after as many clean ones', () => {
    const bad: MailFinding = { code: 'DANE_MISMATCH', severity: 'critical', message: 'mx1.example.test: no TLSA record matches' };
    const mismatch = { ...mx1, dane: 'mismatch' as const, findings: [bad] };
    const ok = { ...mx1, dane: 'match' as const };
    const { events, titles } = runs([report([ok]), report([mismatch]), report([mismatch]), report([mismatch]), report([ok]), report([ok])]);
    assert.deepEqual(events, [[], [], [`${k1}|problem:DANE_MISMATCH:1`], [], [], [`${k1}|recovered:DANE_MISMATCH:1`]]);
    assert.match(titles[2]![0]!, /example\.test mx 10 \(mx1\.example\.test:25\) has a problem: DANE_MISMATCH/);
  });

  it('mail alerts: a new key no TLSA record matches, after the old one matched, is explained as a rollover', () => {
    const bad: MailFinding = { code: 'DANE_MISMATCH', severity: 'critical', message: 'mx1.example.test: no TLSA record matches' };
    const rolled = { ...mx1, outcome: { fingerprint: FP2 }, leafKeys: [KEY2], dane: 'mismatch' as const, findings: [bad] };
    const { events, state, texts } = runs([report([{ ...mx1, dane: 'match' }]), report([rolled]), report([rolled])]);
    assert.deepEqual(events, [[], [`${k1}|renewed:${FP2}`], [`${k1}|problem:DANE_MISMATCH:1`]]);
    assert.match(state.hosts[0]!.findings[0]!.message, /key changed since the last check \(new key sha256 bbbbbbbbbbbbbbbb…\).*old key matched/);
    assert.match(texts[2]![0]!, /rollover was deployed before its TLSA record was published/);
  });

  it('mail alerts: while muted nothing is posted, but hosts and memory advance', () => {
    const muted = { ...settings, mutedUntil: new Date(NOW.getTime() + 86_400_000).toISOString() };
    const { events, state } = runs([report([mx1]), report([mx1, mx2]), report([mx2])], muted);
    assert.deepEqual(events, [[], [], []]);
    assert.deepEqual(state.hosts.map((h) => h.key), [k2]);
    assert.equal(state.episodes[k2], 1);
  });

  it('mail alerts: notes never alert; a domain-level MTA-STS warning does', () => {
    const note: MailFinding = { code: 'DANE_UNSIGNED', severity: 'note', message: 'unsigned' };
    const sts: MailFinding = { code: 'MTA_STS_UNAVAILABLE', severity: 'warning', message: 'policy fetch failed' };
    const { events } = runs([report([{ ...mx1, findings: [note] }]), report([{ ...mx1, findings: [note] }], { findings: [sts] }), report([mx1], { findings: [sts] })]);
    assert.deepEqual(events, [[], [], ['domain|problem:MTA_STS_UNAVAILABLE:1']]);
  });

  it('mail alerts: hostile-length findings are clipped so the state always round-trips through the store', async () => {
    const long = (i: number): MailFinding => ({ code: 'DNS_FAILED', severity: 'critical', message: `SRV _x${i}._tcp.example.test: SERVFAIL ${'x'.repeat(3000)}` });
    const many = [0, 1, 2, 3, 4, 5].map(long);
    const big = { ...mx1, findings: [{ code: 'DANE_UNUSABLE' as const, severity: 'warning' as const, message: 'u'.repeat(6000) }] };
    const { state } = runs([report([big], { findings: many }), report([big], { findings: many })]);
    const repo = new MailDomainRepository(new TypedKv(new Keyv(), (key, reason) => assert.fail(`${key}: ${reason}`)), new SegmentIndex(new TypedKv(new Keyv(), () => {}), 'r'));
    await repo.putState(state);
    const back = await repo.getState(record.id);
    assert.deepEqual(back, state);
    assert.ok((back?.alerts.domain?.issues.DNS_FAILED?.detail.length ?? 0) <= 2000);
  });

  it('mail alerts: the same endpoint listed twice is one host', () => {
    const r = report([mx1, mx1]);
    assert.equal(hostKey(r.hosts[0]!), k1);
    assert.equal(runs([r]).state.hosts.length, 1);
  });
});
