import type { Socket } from 'node:net';
import { connect as tlsConnect, createSecureContext, type SecureContext, type TLSSocket } from 'node:tls';
import { ProbeError } from './errors.ts';

/** What the handshake captured: the chain as sent, version and cipher. */
export interface TlsCapture {
  chain: Buffer[];
  version: string;
  cipher: string;
  /** The stapled OCSP response (RFC 6066 status_request), when asked for and sent. */
  staple?: Buffer;
}

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
    ca: [],
  });
}

/** Upgrades a connected socket to TLS and captures what the server presented. */
export function handshake(
  socket: Socket,
  servername: string,
  context: SecureContext,
  signal: AbortSignal,
  requestOCSP = false,
): Promise<TlsCapture> {
  return new Promise<TlsCapture>((resolve, reject) => {
    const tls = tlsConnect({
      socket,
      secureContext: context,
      rejectUnauthorized: false,
      requestOCSP,
      // SNI must be a name, never an IP literal (RFC 6066 section 3).
      ...(servername === '' ? {} : { servername }),
    });
    const fail = (err: ProbeError): void => {
      cleanup();
      tls.destroy();
      reject(err);
    };
    const onError = (err: Error): void => fail(classify(err));
    const onClose = (): void =>
      fail(new ProbeError('TLS_HANDSHAKE_FAILED', 'server closed the connection during the TLS handshake', { step: 'TLS handshake' }));
    const onAbort = (): void =>
      fail(new ProbeError('TIMEOUT', 'TLS handshake not finished before the deadline', { step: 'TLS handshake' }));
    const cleanup = (): void => {
      tls.off('error', onError);
      tls.off('close', onClose);
      signal.removeEventListener('abort', onAbort);
    };
    let staple: Buffer | undefined;
    // Node emits null when the server staples nothing.
    if (requestOCSP) tls.once('OCSPResponse', (r: Buffer | null) => (staple = r ?? undefined));
    tls.on('error', onError);
    tls.on('close', onClose);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    tls.once('secureConnect', () => {
      cleanup();
      const capture: TlsCapture = {
        chain: sentChain(tls),
        version: tls.getProtocol() ?? 'unknown',
        cipher: tls.getCipher()?.standardName ?? 'unknown',
        ...(staple === undefined || staple.length === 0 ? {} : { staple }),
      };
      // Errors after the handshake (a late alert, a reset) no longer matter.
      tls.on('error', () => {});
      // Say goodbye (close_notify, FIN), but do not wait on a server that never closes its
      // side; the timer goes as soon as the socket closes, so it keeps nothing alive.
      tls.end();
      const linger = setTimeout(() => tls.destroy(), 1000).unref();
      tls.once('close', () => clearTimeout(linger));
      if (capture.chain.length === 0) {
        reject(new ProbeError('TLS_HANDSHAKE_FAILED', 'server sent no certificate', { step: 'TLS handshake' }));
      } else {
        resolve(capture);
      }
    });
  });
}

/** Most certificates read from a server's Certificate message (real chains have 2 to 5). */
const MAX_SENT = 20;

/**
 * The certificates the server sent, leaf first, linked by issuance. getPeerCertificate(true)
 * builds the links from the peer's own stack (SSL_get_peer_cert_chain) and, because the
 * context's store is empty (`ca: []`), never splices in issuers from any store. It drops a
 * sent certificate that issues nothing on the path (a stray) and lists out-of-order chains in
 * issuing order. getPeerX509Certificate() would keep the wire order, but on Node 20 it leaks
 * about 5 KB of native memory per handshake (bench/peer-cert-leak.ts), which a bot probing
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

const plaintextReply = /wrong version number|packet length too long|http request|unknown protocol/i;

function classify(err: Error): ProbeError {
  const msg = err.message;
  if (plaintextReply.test(msg)) {
    return new ProbeError('TLS_HANDSHAKE_FAILED', `server did not answer with TLS (${msg})`, {
      step: 'TLS handshake',
      hint: 'the port may speak plaintext first: try --mode starttls or --protocol',
      cause: err,
    });
  }
  const code = (err as NodeJS.ErrnoException).code;
  const detail = code === 'ECONNRESET' ? 'connection reset by server' : msg;
  return new ProbeError('TLS_HANDSHAKE_FAILED', `TLS handshake failed: ${detail}`, { step: 'TLS handshake', cause: err });
}
