// Test doubles for command tests: the real keyv repository over an in-memory keyv, and a fake
// CheckService returning ProbeResults built here (no sockets).
import Keyv from 'keyv';
import type { CertificateInfo, Problem } from '../../src/cert/types.ts';
import type { ChannelRef, IncomingCommand, Reply } from '../../src/chat/types.ts';
import { createKeyedLock } from '../../src/commands/channel-lock.ts';
import { createDispatcher } from '../../src/commands/dispatcher.ts';
import type { CheckService, LatestResults, Services, TargetRecord } from '../../src/core/services.ts';
import type { ProbeErrorCode } from '../../src/probe/errors.ts';
import { worstStatus, type ProbeResult, type Status } from '../../src/probe/result.ts';
import type { Target } from '../../src/probe/target.ts';
import { KeyvRepository } from '../../src/store/repository.ts';
import { TypedKv } from '../../src/store/kv.ts';

export const NOW = new Date('2025-06-01T12:00:00Z');
export const CHANNEL: ChannelRef = { platform: 'telegram', channelId: '-1001' };
export const OTHER: ChannelRef = { platform: 'telegram', channelId: '-2002' };

/** What one fake probe of an address returns. */
export interface FakeOutcome {
  address?: string;
  daysLeft?: number;
  problems?: Problem[];
  error?: { code: ProbeErrorCode; message: string };
  fingerprint?: string;
  issuer?: string;
  subject?: string;
}

/** A ProbeResult as the real prober shapes it. */
export function makeResult(target: Target, o: FakeOutcome = {}): ProbeResult {
  const problems = o.problems ?? [];
  let status: Status = problems.some((p) => p.severity === 'critical') ? 'critical' : problems.length > 0 ? 'warning' : 'ok';
  let certificate: CertificateInfo | null = null;
  if (o.error !== undefined && problems.length === 0) status = 'error';
  if (o.error === undefined) {
    const days = o.daysLeft ?? 90;
    certificate = {
      subject: o.subject ?? `CN=${target.host}`,
      issuer: o.issuer ?? 'CN=Test Intermediate CA',
      sans: [target.host],
      notBefore: new Date(NOW.getTime() - 10 * 86_400_000).toISOString(),
      notAfter: new Date(NOW.getTime() + days * 86_400_000 + 3_600_000).toISOString(),
      daysLeft: days,
      serialNumber: '01',
      fingerprint256: o.fingerprint ?? 'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
      keyType: 'EC',
      keyBits: 256,
      signatureAlgorithm: 'ecdsa-with-SHA256',
      selfSigned: false,
    };
  }
  return {
    target,
    address: o.address === undefined ? '192.0.2.10' : o.address,
    status,
    problems,
    error: o.error ?? null,
    tls: certificate === null ? null : { version: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384' },
    certificate,
    chain: certificate === null ? [] : [certificate],
    trusted: certificate === null ? null : true,
    hostnameMatch: certificate === null ? null : true,
    checkedAt: NOW.toISOString(),
    timings: { totalMs: 5 },
  };
}

/** A CheckService whose outcomes are set per host; records every call. */
export class FakeChecks implements CheckService {
  readonly stored: string[] = [];
  readonly adHoc: Target[] = [];
  /** Outcomes by host name; unknown hosts get one ok result with 90 days left. */
  readonly outcomes = new Map<string, FakeOutcome[]>();
  /** Hosts whose check throws (a bug or store outage inside the check service). */
  readonly throwing = new Set<string>();

  private readonly repo: KeyvRepository;

  constructor(repo: KeyvRepository) {
    this.repo = repo;
  }

  private results(target: Target): ProbeResult[] {
    if (this.throwing.has(target.host)) throw new Error(`internal failure for ${target.host} at /secret/path.ts:12`);
    return (this.outcomes.get(target.host) ?? [{}]).map((o) => makeResult(target, o));
  }

  async checkStored(record: TargetRecord): Promise<LatestResults> {
    this.stored.push(record.id);
    const results = this.results(record.target);
    const latest: LatestResults = { targetId: record.id, checkedAt: NOW.toISOString(), status: worstStatus(results.map((r) => r.status)), results };
    await this.repo.recordLatest(latest);
    return latest;
  }

  async checkAdHoc(target: Target): Promise<ProbeResult[]> {
    this.adHoc.push(target);
    return this.results(target);
  }
}

/** Captured log lines. */
export interface LogLine {
  level: 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg?: string;
}

/** Services over an in-memory keyv, a fake check service, a dispatcher and a `run` helper. */
export function harness(opts: { maxTargetsPerChannel?: number } = {}) {
  const repo = new KeyvRepository(new TypedKv(new Keyv(), () => {}), 'test', { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false });
  const checks = new FakeChecks(repo);
  let now = NOW;
  const services: Services = {
    repo,
    checks,
    now: () => now,
    defaults: { thresholds: [30, 14, 7, 3, 1], failAfter: 2, digest: false, warnDays: 30, critDays: 7 },
    limits: { maxTargetsPerChannel: opts.maxTargetsPerChannel ?? 50 },
    channelLock: createKeyedLock(),
  };
  const logs: LogLine[] = [];
  const log = {
    info: (obj: object, msg?: string) => void logs.push({ level: 'info', obj: obj as Record<string, unknown>, ...(msg === undefined ? {} : { msg }) }),
    warn: (obj: object, msg?: string) => void logs.push({ level: 'warn', obj: obj as Record<string, unknown>, ...(msg === undefined ? {} : { msg }) }),
    error: (obj: object, msg?: string) => void logs.push({ level: 'error', obj: obj as Record<string, unknown>, ...(msg === undefined ? {} : { msg }) }),
  };
  const dispatch = createDispatcher({ services, log });
  /** Runs one command line ("add x:587 label") in a channel and returns every reply. */
  const run = async (line: string, channel: ChannelRef = CHANNEL, userId = 'u1'): Promise<Reply[]> => {
    const [name = '', ...rest] = line.split(' ');
    const replies: Reply[] = [];
    const cmd: IncomingCommand = { channel, user: { id: userId }, name, text: rest.join(' ') };
    await dispatch(cmd, async (r) => void replies.push(r));
    return replies;
  };
  /** The only reply of a command (fails if there is not exactly one). */
  const one = async (line: string, channel: ChannelRef = CHANNEL): Promise<Reply> => {
    const replies = await run(line, channel);
    if (replies.length !== 1) throw new Error(`expected one reply to "${line}", got ${replies.length}: ${JSON.stringify(replies)}`);
    return replies[0]!;
  };
  return { repo, checks, services, logs, log, dispatch, run, one, setNow: (d: Date) => void (now = d) };
}

/** Every string in a reply, for "does not contain" assertions. */
export function replyText(r: Reply): string {
  return [r.title, ...(r.text ?? []), ...(r.fields ?? []).map((f) => `${f.label}: ${f.value}`), ...(r.items ?? []), ...(r.buttons ?? []).map((b) => `${b.label} ${b.command}`)].join('\n');
}

/** The value of a reply field. */
export function field(r: Reply, label: string): string | undefined {
  return r.fields?.find((f) => f.label === label)?.value;
}
