import { lookup as dnsLookup } from 'node:dns/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import type { SecureContext } from 'node:tls';
import { judge } from '../cert/judge.ts';
import type { TrustStore } from '../cert/trust.ts';
import type { Judgement, JudgeInput, Problem } from '../cert/types.ts';
import type { Revocation } from '../revocation/index.ts';
import { blockedHint, formatHostPort, ProbeError, type ProbeErrorCode } from './errors.ts';
import { protocols } from './protocols/index.ts';
import { SocketIO, defaultReadLimits, type ReadLimits } from './reader.ts';
import { statusOf, type Note, type ProbeResult, type Timings } from './result.ts';
import type { Target } from './target.ts';
import { createProbeContext, handshake, type TlsCapture } from './tls.ts';

/** A resolved address. */
export interface Address {
  address: string;
  family: 4 | 6;
}

/** Resolves a host name to all its addresses. */
export type Resolver = (host: string, signal: AbortSignal) => Promise<Address[]>;

/** Per-probe settings. */
export interface ProbeOptions {
  /** Deadline for DNS and, separately, for each address (connect, dialect, TLS). */
  timeoutMs: number;
  warnDays: number;
  critDays: number;
  /** Trust anchors for this probe (defaults to the prober's). */
  trust?: TrustStore;
  /** Cancels the probe (shutdown). */
  signal?: AbortSignal;
  now?: Date;
  /** Returns a reason when an address must not be contacted (SSRF guard). */
  addressPolicy?: (addr: Address) => string | null;
  /** Probe only this address family of a host name (an IP literal is probed as given). */
  family?: 4 | 6;
  /** Receives each address's chain exactly as sent (DER, leaf first), e.g. for DANE matching. */
  onChain?: (address: string, chain: readonly Buffer[]) => void;
  /** false skips revocation and AIA even when the prober has a Revocation service (--no-revocation). */
  revocation?: boolean;
  /** SNI to send instead of `target.servername`, which certificates are still checked against (DANE: RFC 7672 section 8.1). */
  sni?: string;
}

/** Long-lived probe dependencies, built once by the composition root. */
export interface ProberDeps {
  trust: TrustStore;
  resolve?: Resolver;
  context?: SecureContext;
  /** Most addresses probed per target. */
  maxAddresses?: number;
  limits?: ReadLimits;
  /** Revocation (OCSP staple, CRL, OCSP) and AIA, shared by every probe (src/revocation). */
  revocation?: Revocation;
}

const systemResolver: Resolver = async (host) => {
  const all = await dnsLookup(host, { all: true, verbatim: true });
  return all.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));
};

/** Probes targets: resolves every address, speaks the dialect, captures TLS and judges it. */
export class Prober {
  private readonly context: SecureContext;
  private readonly resolve: Resolver;
  private readonly maxAddresses: number;
  private readonly limits: ReadLimits;

  private readonly deps: ProberDeps;

  constructor(deps: ProberDeps) {
    this.deps = deps;
    this.context = deps.context ?? createProbeContext();
    this.resolve = deps.resolve ?? systemResolver;
    this.maxAddresses = deps.maxAddresses ?? 8;
    this.limits = deps.limits ?? defaultReadLimits;
  }

  /** One result per address the host resolves to (one result with address null if none). */
  async probe(target: Target, opts: ProbeOptions): Promise<ProbeResult[]> {
    const started = performance.now();
    let addresses: Address[];
    const family = isIP(target.host);
    if (family !== 0) {
      addresses = [{ address: target.host, family: family === 6 ? 6 : 4 }];
    } else {
      const dnsDeadline = new Deadline(opts);
      try {
        addresses = onlyFamily(await this.lookup(target.host, dnsDeadline.signal), target.host, opts.family);
      } catch (err) {
        const e = asProbeError(err, 'DNS_FAILED', 'DNS lookup');
        return [errorResult(target, null, e, opts, { totalMs: elapsed(started) })];
      } finally {
        dnsDeadline.clear();
      }
    }
    const dnsMs = elapsed(started);
    const only = addresses.length === 1 ? addresses[0] : undefined;
    if (only !== undefined) return [await this.probeAddress(target, only, opts, dnsMs)];
    return Promise.all(addresses.map((a) => this.probeAddress(target, a, opts, dnsMs)));
  }

  private async lookup(host: string, signal: AbortSignal): Promise<Address[]> {
    const aborted = new Promise<never>((_, reject) => {
      const fail = (): void => reject(new ProbeError('TIMEOUT', `no DNS answer for ${host} before the deadline`, { step: 'DNS lookup' }));
      if (signal.aborted) fail();
      else signal.addEventListener('abort', fail, { once: true });
    });
    aborted.catch(() => {});
    let found: Address[];
    try {
      found = await Promise.race([this.resolve(host, signal), aborted]);
    } catch (err) {
      if (err instanceof ProbeError) throw err;
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ProbeError('DNS_FAILED', `cannot resolve ${host} (${code})`, { step: 'DNS lookup', cause: err });
    }
    const unique = [...new Map(found.map((a) => [a.address, a])).values()];
    if (unique.length === 0) throw new ProbeError('DNS_FAILED', `${host} has no A or AAAA record`, { step: 'DNS lookup' });
    return unique.slice(0, this.maxAddresses);
  }

  private async probeAddress(target: Target, addr: Address, opts: ProbeOptions, dnsMs: number): Promise<ProbeResult> {
    const started = performance.now();
    const timings: Timings = { totalMs: 0, dnsMs };
    const probeDeadline = new Deadline(opts);
    const signal = probeDeadline.signal;
    let socket: Socket | undefined;
    try {
      const blocked = opts.addressPolicy?.(addr) ?? null;
      if (blocked !== null) {
        throw new ProbeError('BLOCKED_TARGET', `${addr.address} is not allowed: ${blocked}`, {
          step: 'address check',
          hint: blockedHint(blocked, addr.address),
        });
      }
      socket = await connectTcp(addr, target.port, signal);
      timings.connectMs = elapsed(started);
      const dialect = target.mode === 'starttls' ? protocols[target.protocol].dialect : null;
      if (dialect !== null) {
        const t0 = performance.now();
        const io = new SocketIO(socket, target.host, target.servername || target.host, signal, this.limits);
        try {
          await dialect(io);
        } catch (err) {
          io.detach();
          throw err;
        }
        const rest = io.detach();
        if (rest.length > 0) {
          // Bytes after the go-ahead would be read as TLS by us, or as commands by a vulnerable
          // server: refuse them (the STARTTLS injection class, RFC 3207 section 4.2).
          throw new ProbeError('PROTOCOL_ERROR', `server sent ${rest.length} unexpected bytes after the TLS go-ahead`, {
            step: 'after STARTTLS',
          });
        }
        timings.starttlsMs = elapsed(t0);
      }
      const t1 = performance.now();
      const revocation = opts.revocation === false ? undefined : this.deps.revocation;
      const capture = await handshake(socket, opts.sni ?? target.servername, this.context, signal, dialect !== null);
      timings.tlsMs = elapsed(t1);
      opts.onChain?.(addr.address, capture.chain);
      timings.totalMs = elapsed(started) + dnsMs;
      const input: JudgeInput = {
        chain: capture.chain,
        tlsVersion: capture.version,
        expectedName: target.servername || addr.address,
        now: opts.now ?? new Date(),
        warnDays: opts.warnDays,
        critDays: opts.critDays,
      };
      const trust = opts.trust ?? this.deps.trust;
      // Revocation fetches have their own deadline (the HTTP client's); shutdown still cancels them.
      const verdict =
        revocation === undefined
          ? judge(input, trust)
          : await revocation.judge({ judge: input, trust, staple: capture.staple ?? null, ...(opts.signal === undefined ? {} : { signal: opts.signal }) });
      return judged(target, addr, capture, input.now, timings, verdict);
    } catch (err) {
      socket?.destroy();
      timings.totalMs = elapsed(started) + dnsMs;
      return errorResult(target, addr.address, asProbeError(err, 'PROTOCOL_ERROR', 'probe'), opts, timings);
    } finally {
      probeDeadline.clear();
    }
  }
}

/** The result of a completed handshake, from its verdict and how the session ended. */
function judged(target: Target, addr: Address, capture: TlsCapture, now: Date, timings: Timings, verdict: Judgement): ProbeResult {
  const problems = [...verdict.problems];
  const notes: Note[] = [...(verdict.notes ?? [])];
  const failure = capture.failure;
  if (failure !== null) {
    const message = `${formatHostPort(target.host, target.port)}: ${failure.message}`;
    if (failure.kind === 'client-certificate') notes.push({ code: 'CLIENT_CERT_REQUIRED', message });
    else problems.push({ code: failure.kind === 'after-handshake' ? 'TLS_ALERT_AFTER_HANDSHAKE' : 'TLS_FAILED_AFTER_CERTIFICATE', severity: 'critical', message });
  }
  return {
    target,
    address: addr.address,
    status: statusOf(problems),
    problems,
    notes,
    error: null,
    tls: { version: capture.version, cipher: capture.cipher },
    certificate: verdict.certificate,
    chain: verdict.chain,
    trusted: verdict.trusted,
    hostnameMatch: verdict.hostnameMatch,
    checkedAt: now.toISOString(),
    timings,
  };
}

/** Keeps the addresses of the wanted family; none left is a DNS failure for that family. */
function onlyFamily(addresses: Address[], host: string, family: 4 | 6 | undefined): Address[] {
  if (family === undefined) return addresses;
  const kept = addresses.filter((a) => a.family === family);
  if (kept.length === 0) {
    throw new ProbeError('DNS_FAILED', `${host} has no ${family === 4 ? 'A' : 'AAAA'} record (only IPv${family} is probed)`, { step: 'DNS lookup' });
  }
  return kept;
}

/**
 * One deadline per probe step (DNS, then each address), also ended by the caller's signal.
 * Cleared as soon as the step ends: AbortSignal.timeout() would keep a timer per probe alive
 * for the whole timeout (10 s by default, thousands at once in a large run), and
 * AbortSignal.any() ties every probe's signal to the long-lived shutdown signal.
 */
class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly parent: AbortSignal | undefined;
  private readonly onParentAbort = (): void => this.controller.abort();

  constructor(opts: ProbeOptions) {
    this.timer = setTimeout(this.onParentAbort, opts.timeoutMs);
    this.parent = opts.signal;
    if (this.parent?.aborted === true) this.controller.abort();
    else this.parent?.addEventListener('abort', this.onParentAbort, { once: true });
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  clear(): void {
    clearTimeout(this.timer);
    this.parent?.removeEventListener('abort', this.onParentAbort);
  }
}

function connectTcp(addr: Address, port: number, signal: AbortSignal): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({ host: addr.address, port, family: addr.family });
    const onAbort = (): void => {
      socket.destroy();
      reject(new ProbeError('CONNECT_TIMEOUT', `no TCP connection to port ${port} before the deadline`, { step: 'connect' }));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      const code: ProbeErrorCode = err.code === 'ETIMEDOUT' ? 'CONNECT_TIMEOUT' : 'CONNECT_REFUSED';
      const detail = err.code === 'ECONNREFUSED' ? `connection to port ${port} refused` : `cannot connect to port ${port} (${err.code ?? err.message})`;
      // No IPv6 route or address here (typical in containers): a local limit, not the server's.
      const noLocalV6 = addr.family === 6 && (err.code === 'ENETUNREACH' || err.code === 'EADDRNOTAVAIL');
      const hint = noLocalV6 ? 'this host cannot reach IPv6; probe IPv4 only with -4 (CLI) or PROBE_IP_FAMILY=4 (bot)' : undefined;
      reject(new ProbeError(code, detail, { step: 'connect', cause: err, ...(hint === undefined ? {} : { hint }) }));
    });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

function asProbeError(err: unknown, fallback: ProbeErrorCode, step: string): ProbeError {
  if (err instanceof ProbeError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new ProbeError(fallback, message, { step, cause: err });
}

function errorResult(target: Target, address: string | null, err: ProbeError, opts: ProbeOptions, timings: Timings): ProbeResult {
  const message = err.describe({ host: target.host, port: target.port });
  const finding = err.code === 'STARTTLS_NOT_OFFERED' || err.code === 'STARTTLS_REJECTED';
  const problems: Problem[] = finding ? [{ code: err.code as 'STARTTLS_NOT_OFFERED' | 'STARTTLS_REJECTED', severity: 'critical', message }] : [];
  return {
    target,
    address,
    status: finding ? 'critical' : 'error',
    problems,
    notes: [],
    error: { code: err.code, message },
    tls: null,
    certificate: null,
    chain: [],
    trusted: null,
    hostnameMatch: null,
    checkedAt: (opts.now ?? new Date()).toISOString(),
    timings,
  };
}

function elapsed(since: number): number {
  return Math.round((performance.now() - since) * 10) / 10;
}
