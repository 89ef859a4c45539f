import type { Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { opensslReason, PLAINTEXT_FIRST_HINT, ProbeError } from './errors.ts';

/** What the handshake captured: the chain as sent, version and cipher. */
export interface TlsCapture {
  chain: Buffer[];
  version: string;
  cipher: string;
  /** How the session failed after the server had sent its certificate; null when it did not. */
  failure: SessionFailure | null;
  /** The stapled OCSP response (RFC 6066 status_request), when the server sent one. */
  staple?: Buffer;
}

/**
 * A session that failed after the server's Certificate message: the certificate is still
 * reported (issue 8 item 4). `client-certificate`: the server wants a client certificate (a
 * fact about access, not about the certificate); `during-handshake`: the handshake failed
 * after the server's certificate for another reason; `after-handshake`: the server completed
 * the handshake, then sent a fatal alert, so no client can use the endpoint.
 */
export interface SessionFailure {
  kind: 'client-certificate' | 'during-handshake' | 'after-handshake';
  /** The TLS alert the server sent (RFC 8446 section 6), null when none (a local error or a close). */
  alert: number | null;
  message: string;
}

/**
 * Key exchange groups offered. OpenSSL 3.5's default sends an X25519MLKEM768 key share, whose
 * key generation and decapsulation cost more CPU than the rest of the probe; the key exchange
 * protects nothing a probe sends, so it offers the classical groups (X25519 key share first,
 * every other group a server may insist on, reached by HelloRetryRequest). The hybrid group is
 * not listed at all: an OpenSSL 3.5 server prefers it whenever it is offered and would then
 * ask for it with a retry on every probe (README "Known limits": a server accepting only
 * post-quantum groups fails the handshake).
 */
export const probeGroups = 'X25519:P-256:P-384:P-521:X448:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192';

/**
 * One client context for every probe: verification is done by the judge, so the context
 * accepts anything the server offers, down to TLS 1.0 and weak keys (to report them).
 * `ca: []` leaves its store empty (no bundled roots loaded, no per-handshake chain building
 * against them); trust is evaluated by the judge against its own parsed anchors.
 */
export function createProbeContext(): SecureContext {
  return createSecureContext({
    minVersion: 'TLSv1',
    ciphers: 'ALL:@SECLEVEL=0',
    ecdhCurve: probeGroups,
    ca: [],
  });
}

/** Longest wait for the server's verdict on a finished handshake, and for its goodbye. */
const settleMs = 1000;

/**
 * Upgrades a connected socket to TLS and captures what the server presented. The chain is
 * read as soon as the server's first flight is processed (the OCSP status callback, which
 * OpenSSL runs after the Certificate message in TLS 1.3 and after ServerHelloDone in TLS 1.2),
 * so a server that aborts later (a TLS 1.2 server demanding a client certificate) still
 * yields its certificate. After the handshake the probe waits briefly for the server's verdict
 * before saying goodbye: a TLS 1.3 server rejects a missing client certificate only after the
 * client's Finished (certificate_required), and a broken server may answer with a fatal alert.
 * `upgraded`: a dialect already had the server's go-ahead, so a plaintext answer is not a
 * plaintext-first port (and the hint to try --mode starttls would be wrong).
 */
export function handshake(
  socket: Socket,
  servername: string,
  context: SecureContext,
  signal: AbortSignal,
  upgraded = false,
): Promise<TlsCapture> {
  const started = performance.now();
  return new Promise<TlsCapture>((resolve, reject) => {
    const tls = tlsConnect({
      socket,
      secureContext: context,
      rejectUnauthorized: false,
      requestOCSP: true,
      // SNI must be a name, never an IP literal (RFC 6066 section 3).
      ...(servername === '' ? {} : { servername }),
    });
    let chain: Buffer[] | null = null;
    let version = 'unknown';
    let cipher = 'unknown';
    let established = false;
    let certRequested = false;
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let staple: Buffer | undefined;
    // Called with the server's OCSP staple (null when it staples nothing), or without one.
    const readFlight = (response?: Buffer | null): void => {
      if (response !== undefined && response !== null && response.length > 0) staple = response;
      // Once: reading the chain is the costliest step of the probe after the handshake itself.
      chain = sentChain(tls);
      // OpenSSL fills the shared signature algorithms on the client only from a
      // CertificateRequest (RFC 8446 section 4.3.2, RFC 5246 section 7.4.4): a non-empty
      // list means the server asked for a client certificate.
      certRequested ||= tls.getSharedSigalgs().length > 0;
      version = tls.getProtocol() ?? 'unknown';
      cipher = tls.getCipher()?.standardName ?? 'unknown';
    };
    const finish = (failure: SessionFailure | null): void => {
      if (settled) return;
      settled = true;
      cleanup();
      // Errors after this point (a late alert, a reset) no longer matter.
      tls.on('error', () => {});
      if (established && failure === null) {
        // Say goodbye (close_notify, FIN), but do not wait on a server that never closes its
        // side; the timer goes as soon as the socket closes, so it keeps nothing alive. What
        // the server still sends is read (so its close is seen) and dropped, up to a bound.
        let drained = 0;
        tls.on('data', (chunk: Buffer) => {
          drained += chunk.length;
          if (drained > maxDrainBytes) tls.destroy();
        });
        tls.end();
        const linger = setTimeout(() => tls.destroy(), settleMs).unref();
        tls.once('close', () => clearTimeout(linger));
      } else {
        tls.destroy();
      }
      if (chain === null || chain.length === 0) {
        reject(new ProbeError('TLS_HANDSHAKE_FAILED', 'server sent no certificate', { step: 'TLS handshake' }));
      } else {
        resolve({ chain, version, cipher, failure, ...(staple === undefined ? {} : { staple }) });
      }
    };
    const fail = (err: ProbeError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      tls.on('error', () => {});
      tls.destroy();
      reject(err);
    };
    const onError = (err: Error): void => {
      const alert = alertOf(err);
      if (established) {
        // A reset or a local error after the handshake says nothing about the server's
        // certificate or session; only a fatal alert the server sent does.
        return finish(alert === null ? null : failureOf(alert, certRequested, true, err));
      }
      if (chain !== null && chain.length > 0) return finish(failureOf(alert, certRequested, false, err));
      fail(classify(err, upgraded));
    };
    const onClose = (): void => {
      if (established) return finish(null);
      if (chain !== null && chain.length > 0) return finish(endedAfterCertificate(certRequested, 'closed'));
      fail(new ProbeError('TLS_HANDSHAKE_FAILED', 'server closed the connection during the TLS handshake', { step: 'TLS handshake' }));
    };
    const onAbort = (): void => {
      // Past the handshake the deadline only ends the wait for the server's goodbye.
      if (established) return finish(null);
      // The certificate is in hand: report it, and the stalled handshake as a finding, as for
      // a server that closes at the same point (onClose).
      if (chain !== null && chain.length > 0) return finish(endedAfterCertificate(certRequested, 'stalled'));
      fail(new ProbeError('TIMEOUT', 'TLS handshake not finished before the deadline', { step: 'TLS handshake' }));
    };
    // Application data (an implicit-TLS greeting) or the server's close: the session works.
    // (A 'session' listener for TLS 1.3 tickets is not used: added at secureConnect it misses
    // tickets already read, and added before the handshake it serialises every ticket.)
    const onUsable = (): void => finish(null);
    const cleanup = (): void => {
      tls.off('error', onError);
      tls.off('close', onClose);
      tls.off('data', onUsable);
      tls.off('end', onUsable);
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
    tls.on('error', onError);
    tls.on('close', onClose);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    tls.once('OCSPResponse', readFlight);
    tls.once('secureConnect', () => {
      established = true;
      // Version and cipher are settled by the ServerHello: the OCSP callback read them already.
      if (chain === null) readFlight();
      if (chain === null || chain.length === 0) return finish(null);
      // The goodbye (close_notify) waits for the server's verdict: once it is sent, Node and
      // OpenSSL report a later fatal alert as a clean close. TLS 1.3 servers judge the
      // client's certificate after the client's Finished, one round trip later: wait for
      // data, an alert or the close, at most as long as the handshake took. A TLS 1.2
      // server's verdict is its Finished; only bytes already received are read.
      tls.on('data', onUsable);
      tls.on('end', onUsable);
      // A server that asked for a client certificate owes a verdict: wait for it up to settleMs.
      const took = performance.now() - started;
      const wait = version !== 'TLSv1.3' ? 0 : certRequested ? settleMs : Math.min(settleMs, Math.max(minVerdictWaitMs, took));
      // When the timer fires late (a busy process), bytes that arrived meanwhile are still
      // unread: the timers run before I/O. Two more turns of the loop read them first (one
      // for the socket, one for a server in this same process, as in tests).
      timer = setTimeout(() => setImmediate(() => setImmediate(onUsable)), wait);
    });
  });
}

/** Most bytes read and dropped after the goodbye (a greeting, tickets) before hanging up hard. */
const maxDrainBytes = 64 * 1024;

/** Shortest wait for a TLS 1.3 server's verdict (loopback handshakes take less than this). */
const minVerdictWaitMs = 5;

/** Most certificates read from a server's Certificate message (real chains have 2 to 5). */
const MAX_SENT = 20;

/**
 * The certificates the server sent, leaf first, linked by issuance. getPeerCertificate(true)
 * builds the links from the peer's own stack (SSL_get_peer_cert_chain) and, because the
 * context's store is empty (`ca: []`), never splices in issuers from any store. It drops a
 * sent certificate that issues nothing on the path (a stray) and lists out-of-order chains in
 * issuing order. getPeerX509Certificate() would keep the wire order, but up to Node 24 it
 * leaks about 5 KB of native memory per handshake (each issuer is copied out of the peer
 * chain and the original is dropped unfreed; bench/peer-cert-leak.ts), which a bot probing
 * all day cannot afford.
 */
function sentChain(tls: TLSSocket): Buffer[] {
  const out: Buffer[] = [];
  const seen = new Set<string>();
  let cur: Partial<DetailedCert> | undefined = tls.getPeerCertificate(true) as Partial<DetailedCert>;
  while (cur?.raw !== undefined && cur.fingerprint256 !== undefined && !seen.has(cur.fingerprint256) && out.length < MAX_SENT) {
    seen.add(cur.fingerprint256);
    out.push(cur.raw);
    cur = cur.issuerCertificate;
  }
  return out;
}

interface DetailedCert {
  raw: Buffer;
  fingerprint256: string;
  issuerCertificate?: DetailedCert;
}

/** A session the server ended without an alert after sending its certificate: by closing, or by going silent until the deadline. */
function endedAfterCertificate(certRequested: boolean, how: 'closed' | 'stalled'): SessionFailure {
  if (certRequested) {
    const what = how === 'closed' ? 'closed the connection' : 'stopped answering';
    return { kind: 'client-certificate', alert: null, message: `server asked for a client certificate and ${what} without one${how === 'stalled' ? ' (no reply before the deadline)' : ''}` };
  }
  const message =
    how === 'closed'
      ? 'server closed the connection during the TLS handshake, after sending its certificate'
      : 'server stopped answering during the TLS handshake, after sending its certificate (no reply before the deadline)';
  return { kind: 'during-handshake', alert: null, message };
}

/** Alert names (RFC 8446 section 6, RFC 5246 section 7.2) for the messages. */
const alertNames: Record<number, string> = {
  0: 'close_notify', 10: 'unexpected_message', 20: 'bad_record_mac', 22: 'record_overflow', 40: 'handshake_failure',
  42: 'bad_certificate', 43: 'unsupported_certificate', 44: 'certificate_revoked', 45: 'certificate_expired',
  46: 'certificate_unknown', 47: 'illegal_parameter', 48: 'unknown_ca', 49: 'access_denied', 50: 'decode_error',
  51: 'decrypt_error', 70: 'protocol_version', 71: 'insufficient_security', 80: 'internal_error',
  86: 'inappropriate_fallback', 90: 'user_canceled', 109: 'missing_extension', 110: 'unsupported_extension',
  112: 'unrecognized_name', 116: 'certificate_required', 120: 'no_application_protocol',
};

/**
 * Alerts a server sends about the client's certificate, after asking for one with a
 * CertificateRequest. The probe sends none, so these mean "no access without a client
 * certificate": TLS 1.3 names it (certificate_required, taken as such even without a seen
 * request); TLS 1.2 servers send handshake_failure (OpenSSL, "peer did not return a
 * certificate") or a certificate alert (Java, GnuTLS).
 */
const clientCertAlerts = new Set([40, 42, 43, 44, 45, 46, 48, 49, 116]);

/** The alert number the server sent, from OpenSSL's "SSL alert number N"; null for a local error. */
function alertOf(err: Error): number | null {
  const m = /SSL alert number (\d{1,3})/.exec(err.message);
  return m === null ? null : Number(m[1]);
}

function alertName(alert: number): string {
  return `${alertNames[alert] ?? 'unknown'} alert (${alert})`;
}

function failureOf(alert: number | null, certRequested: boolean, established: boolean, err: Error): SessionFailure {
  if (alert === 116) {
    return { kind: 'client-certificate', alert, message: 'server requires a client certificate (certificate_required alert (116))' };
  }
  if (alert !== null && certRequested && clientCertAlerts.has(alert)) {
    return {
      kind: 'client-certificate',
      alert,
      message: `server asked for a client certificate and ended the session without one (${alertName(alert)})`,
    };
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (alert === null && certRequested && code === 'ECONNRESET') {
    return { kind: 'client-certificate', alert, message: 'server asked for a client certificate and reset the connection without one' };
  }
  if (established) {
    return {
      kind: 'after-handshake',
      alert,
      message: `server completed the TLS handshake, then sent a fatal ${alertName(alert ?? -1)}: no client can use this endpoint`,
    };
  }
  const what = alert !== null ? `server sent a fatal ${alertName(alert)}` : code === 'ECONNRESET' ? 'connection reset by server' : opensslReason(err);
  return { kind: 'during-handshake', alert, message: `TLS handshake failed after the server sent its certificate: ${what}` };
}

const plaintextReply = /wrong version number|packet length too long|http request|unknown protocol/i;

function classify(err: Error, upgraded: boolean): ProbeError {
  // Users get OpenSSL's reason, not its error string (codes, function names, source paths).
  const msg = opensslReason(err);
  if (plaintextReply.test(msg) && upgraded) {
    return new ProbeError('TLS_HANDSHAKE_FAILED', `server agreed to start TLS, then did not answer with TLS (${msg})`, {
      step: 'TLS handshake',
      cause: err,
    });
  }
  if (plaintextReply.test(msg)) {
    return new ProbeError('TLS_HANDSHAKE_FAILED', `server did not answer with TLS (${msg})`, {
      step: 'TLS handshake',
      hint: PLAINTEXT_FIRST_HINT,
      cause: err,
    });
  }
  const code = (err as NodeJS.ErrnoException).code;
  const detail = code === 'ECONNRESET' ? 'connection reset by server' : msg;
  return new ProbeError('TLS_HANDSHAKE_FAILED', `TLS handshake failed: ${detail}`, { step: 'TLS handshake', cause: err });
}
