import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decideAlerts, type PolicySettings } from '../../src/alerts/policy.ts';
import type { CertificateInfo, Problem } from '../../src/cert/types.ts';
import type { LatestResults, TargetRecord } from '../../src/core/services.ts';
import type { ProbeErrorCode } from '../../src/probe/errors.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import type { AlertState } from '../../src/store/schema.ts';

const record: TargetRecord = {
  id: 'k3x9p2',
  target: parseTarget('mail.example.com:587'),
  channel: { platform: 'console', channelId: 'console' },
  addedBy: { id: 'u' },
  addedAt: '2026-01-01T00:00:00.000Z',
};
const settings: PolicySettings = { thresholds: [30, 14, 7, 3, 1], failAfter: 2, critDays: 7 };
const day = (n: number): Date => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000);

function cert(fp: string, daysLeft: number): CertificateInfo {
  return {
    subject: 'CN=mail.example.com', issuer: 'CN=Test CA', sans: ['mail.example.com'], notBefore: '2025-01-01T00:00:00.000Z',
    notAfter: `2026-12-31T00:00:00.000Z`, daysLeft, serialNumber: '01', fingerprint256: fp, keyType: 'EC', keyBits: 256,
    signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false,
  };
}
type Spec = { fp: string; days: number; problems?: Problem['code'][]; address?: string } | { error: ProbeErrorCode; address?: string };
function latest(...specs: Spec[]): LatestResults {
  const results = specs.map((s): ProbeResult => {
    const base = { target: record.target, address: s.address ?? '192.0.2.1', tls: null, chain: [], trusted: null, hostnameMatch: null, checkedAt: '', timings: { totalMs: 1 } };
    if ('error' in s) return { ...base, status: 'error', problems: [], error: { code: s.error, message: 'connection refused' }, certificate: null };
    const problems = (s.problems ?? []).map((code): Problem => ({ code, severity: 'critical', message: `${code} found` }));
    return { ...base, status: problems.length ? 'critical' : 'ok', problems, error: null, certificate: cert(s.fp, s.days) };
  });
  return { targetId: record.id, checkedAt: '', status: 'ok', results };
}

/** Runs a sequence of (day, results) through the policy and returns the events per step. */
function run(steps: [number, LatestResults][], opts: Partial<PolicySettings> = {}, start?: AlertState): { events: string[][]; state: AlertState | undefined } {
  let state = start;
  const events: string[][] = [];
  for (const [d, l] of steps) {
    const out = decideAlerts(state, l, record, day(d), { ...settings, ...opts });
    state = out.state;
    events.push(out.messages.map((m) => m.event));
  }
  return { events, state };
}

const A = 'AA:01';
const B = 'BB:02';

const cases: { name: string; steps: [number, LatestResults][]; opts?: Partial<PolicySettings>; want: string[][] }[] = [
  { name: 'the first evaluation is a silent baseline even inside a threshold', steps: [[0, latest({ fp: A, days: 20 })]], want: [[]] },
  {
    name: 'each threshold is posted once per certificate as days run down',
    steps: [[0, latest({ fp: A, days: 40 })], [10, latest({ fp: A, days: 30 })], [11, latest({ fp: A, days: 29 })], [26, latest({ fp: A, days: 14 })], [27, latest({ fp: A, days: 13 })]],
    want: [[], [`threshold:${A}:30`], [], [`threshold:${A}:14`], []],
  },
  {
    name: 'after downtime only the most severe pending threshold is posted',
    steps: [[0, latest({ fp: A, days: 40 })], [1, latest({ error: 'CONNECT_REFUSED' })], [38, latest({ fp: A, days: 2 })]],
    opts: { failAfter: 5 },
    want: [[], [], [`threshold:${A}:3`]],
  },
  {
    name: 'a new fingerprint is a renewal and thresholds start over for it',
    steps: [[0, latest({ fp: A, days: 10 })], [1, latest({ fp: B, days: 90 })], [2, latest({ fp: B, days: 89 })], [62, latest({ fp: B, days: 29 })]],
    want: [[], [`renewed:${B}`], [], [`threshold:${B}:30`]],
  },
  {
    name: 'a renewal into a short-lived certificate posts the renewal, not an extra threshold',
    steps: [[0, latest({ fp: A, days: 2 })], [1, latest({ fp: B, days: 20 })], [2, latest({ fp: B, days: 19 })]],
    want: [[], [`renewed:${B}`], []],
  },
  {
    name: 'a load balancer alternating two known certificates does not repeat renewals',
    steps: [[0, latest({ fp: A, days: 60 })], [1, latest({ fp: B, days: 90 })], [2, latest({ fp: A, days: 58 })], [3, latest({ fp: B, days: 88 })]],
    want: [[], [`renewed:${B}`], [], []],
  },
  {
    name: 'a problem is announced after failAfter consecutive results, once',
    steps: [[0, latest({ fp: A, days: 90, problems: ['UNTRUSTED'] })], [1, latest({ fp: A, days: 89, problems: ['UNTRUSTED'] })], [2, latest({ fp: A, days: 88, problems: ['UNTRUSTED'] })]],
    want: [[], ['problem:UNTRUSTED:1'], []],
  },
  {
    name: 'recovery is posted after failAfter clean results and a later episode gets a new key',
    steps: [
      [0, latest({ fp: A, days: 90, problems: ['HOSTNAME_MISMATCH'] })], [1, latest({ fp: A, days: 89, problems: ['HOSTNAME_MISMATCH'] })],
      [2, latest({ fp: A, days: 88 })], [3, latest({ fp: A, days: 87 })],
      [4, latest({ fp: A, days: 86, problems: ['HOSTNAME_MISMATCH'] })], [5, latest({ fp: A, days: 85, problems: ['HOSTNAME_MISMATCH'] })],
    ],
    want: [[], ['problem:HOSTNAME_MISMATCH:1'], [], ['recovered:HOSTNAME_MISMATCH:1'], [], ['problem:HOSTNAME_MISMATCH:2']],
  },
  {
    name: 'a flapping endpoint never alternates problem and recovery messages',
    steps: [0, 1, 2, 3, 4, 5, 6, 7].map((d): [number, LatestResults] => [d, d % 2 === 0 ? latest({ error: 'CONNECT_TIMEOUT' }) : latest({ fp: A, days: 80 })]),
    want: [[], [], [], [], [], [], [], []],
  },
  {
    name: 'an announced outage that flaps stays announced until it is clean for failAfter runs',
    steps: [[0, latest({ error: 'TIMEOUT' })], [1, latest({ error: 'TIMEOUT' })], [2, latest({ fp: A, days: 80 })], [3, latest({ error: 'TIMEOUT' })], [4, latest({ fp: A, days: 79 })], [5, latest({ fp: A, days: 78 })]],
    want: [[], ['problem:UNREACHABLE:1'], [], [], [], ['recovered:UNREACHABLE:1']],
  },
  {
    name: 'an unreachable endpoint is announced with failAfter 1 at once',
    steps: [[0, latest({ fp: A, days: 80 })], [1, latest({ error: 'CONNECT_REFUSED' })]],
    opts: { failAfter: 1 },
    want: [[], ['problem:UNREACHABLE:1']],
  },
  {
    name: 'a problem already shown by the add reply is not posted again on the baseline, but its recovery is',
    steps: [[0, latest({ error: 'BLOCKED_TARGET' })], [1, latest({ error: 'BLOCKED_TARGET' })], [2, latest({ fp: A, days: 80 })]],
    opts: { failAfter: 1 },
    want: [[], [], ['recovered:UNREACHABLE:1']],
  },
  {
    name: 'one failing address of two makes the target unreachable',
    steps: [[0, latest({ fp: A, days: 80 }, { error: 'CONNECT_REFUSED', address: '2001:db8::1' })], [1, latest({ fp: A, days: 79 }, { error: 'CONNECT_REFUSED', address: '2001:db8::1' })]],
    want: [[], ['problem:UNREACHABLE:1']],
  },
  {
    name: 'a new certificate on one address of two is a renewal',
    steps: [[0, latest({ fp: A, days: 5, address: '192.0.2.1' }, { fp: A, days: 5, address: '192.0.2.2' })], [1, latest({ fp: B, days: 90, address: '192.0.2.1' }, { fp: A, days: 4, address: '192.0.2.2' })]],
    want: [[], [`renewed:${B}`]],
  },
  {
    name: 'an expired certificate posts no threshold, the EXPIRED problem instead',
    steps: [[0, latest({ fp: A, days: 20 })], [25, latest({ fp: A, days: -5, problems: ['EXPIRED'] })], [26, latest({ fp: A, days: -6, problems: ['EXPIRED'] })]],
    want: [[], [], ['problem:EXPIRED:1']],
  },
  {
    name: 'per-target thresholds replace the defaults',
    steps: [[0, latest({ fp: A, days: 40 })], [15, latest({ fp: A, days: 25 })], [31, latest({ fp: A, days: 9 })]],
    opts: { thresholds: [10] },
    want: [[], [], [`threshold:${A}:10`]],
  },
  {
    name: 'nothing is posted while muted and crossings during the mute are not replayed after it',
    steps: [[0, latest({ fp: A, days: 40 })], [12, latest({ fp: A, days: 28 })], [27, latest({ fp: A, days: 13 })], [35, latest({ fp: A, days: 5 })]],
    opts: { mutedUntil: day(30).toISOString() },
    want: [[], [], [], [`threshold:${A}:7`]],
  },
  {
    name: 'a problem that starts and ends during a mute produces no recovery afterwards',
    steps: [[0, latest({ fp: A, days: 90, problems: ['UNTRUSTED'] })], [1, latest({ fp: A, days: 89, problems: ['UNTRUSTED'] })], [31, latest({ fp: A, days: 59 })], [32, latest({ fp: A, days: 58 })]],
    opts: { mutedUntil: day(30).toISOString() },
    want: [[], [], [], []],
  },
  {
    name: 'a problem that starts during a mute and is still there when it ends is posted then, and its recovery after it',
    steps: [
      [0, latest({ fp: A, days: 90 })], [1, latest({ fp: A, days: 89, problems: ['UNTRUSTED'] })], [2, latest({ fp: A, days: 88, problems: ['UNTRUSTED'] })],
      [31, latest({ fp: A, days: 59, problems: ['UNTRUSTED'] })], [32, latest({ fp: A, days: 58, problems: ['UNTRUSTED'] })],
      [33, latest({ fp: A, days: 57 })], [34, latest({ fp: A, days: 56 })],
    ],
    opts: { mutedUntil: day(30).toISOString() },
    want: [[], [], [], ['problem:UNTRUSTED:1'], [], [], ['recovered:UNTRUSTED:1']],
  },
];

for (const c of cases) {
  test(`policy: ${c.name}`, () => {
    const { events } = run(c.steps, c.opts);
    assert.deepEqual(events.map((e) => [...e].sort()), c.want);
  });
}

test('policy: the same inputs give the same events and leave the previous state untouched', () => {
  const { state } = run([[0, latest({ fp: A, days: 40 })]]);
  const frozen = structuredClone(state);
  const one = decideAlerts(state, latest({ fp: A, days: 6 }), record, day(34), settings);
  const two = decideAlerts(state, latest({ fp: A, days: 6 }), record, day(34), settings);
  assert.deepEqual(one, two);
  assert.deepEqual(state, frozen);
  assert.deepEqual(one.messages.map((m) => m.event), [`threshold:${A}:7`]);
});

test('policy: alerts are neutral replies with Check now, Mute 7 days and Remove buttons', () => {
  const { state } = run([[0, latest({ fp: A, days: 40 })]]);
  const [msg] = decideAlerts(state, latest({ fp: A, days: 6 }), { ...record, label: 'mail' }, day(34), settings).messages;
  assert.ok(msg);
  assert.equal(msg.reply.status, 'critical');
  assert.match(msg.reply.title, /mail \(mail\.example\.com:587\) expires in 6 days/);
  assert.deepEqual(msg.reply.buttons?.map((b) => b.command), ['check k3x9p2', 'mute k3x9p2 7d', 'remove k3x9p2']);
  assert.ok(msg.reply.fields?.some((f) => f.label === 'Days left' && f.value === '6'));
});

test('policy: certificates unseen for longer than the memory window are forgotten', () => {
  const { state } = run([[0, latest({ fp: A, days: 90 })], [1, latest({ error: 'TIMEOUT' })], [40, latest({ error: 'TIMEOUT' })]], { failAfter: 99 });
  assert.deepEqual(Object.keys(state?.certs ?? {}), []);
});
