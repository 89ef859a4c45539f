// A loopback TLS server that completes the handshake and then sends a fatal alert, as a broken
// server does (issue 8 item 4). Node cannot send an alert on demand, so a relay sits in front
// of a real node:tls server: it forwards the handshake, learns the server's traffic keys from
// the server's keylog, and injects one encrypted alert record in place of whatever the server
// sends next (RFC 5246 section 6.2.3.3 for TLS 1.2 AES-GCM, RFC 8446 section 5.2 for 1.3).
import { createCipheriv, createHmac } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { ServerCreds } from '../helpers/pki.ts';

/** A running relay. */
export interface AlertServer {
  port: number;
  close(): Promise<void>;
}

const hmac = (key: Buffer, data: Buffer): Buffer => createHmac('sha256', key).update(data).digest();

/** TLS 1.2 PRF with SHA-256 (RFC 5246 section 5). */
function prf12(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let a: Buffer = labelSeed;
  let total = 0;
  while (total < length) {
    a = hmac(secret, a);
    const block = hmac(secret, Buffer.concat([a, labelSeed]));
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

/** HKDF-Expand-Label with SHA-256 for outputs up to 32 bytes (RFC 8446 section 7.1). */
function expandLabel(secret: Buffer, label: string, length: number): Buffer {
  const full = Buffer.from(`tls13 ${label}`, 'latin1');
  const info = Buffer.concat([Buffer.from([length >> 8, length & 0xff, full.length]), full, Buffer.from([0])]);
  return hmac(secret, Buffer.concat([info, Buffer.from([1])])).subarray(0, length);
}

function gcm(key: Buffer, nonce: Buffer, aad: Buffer, plain: Buffer): Buffer {
  const c = createCipheriv('aes-128-gcm', key, nonce);
  c.setAAD(aad);
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

/** alert(level fatal, description) sealed for TLS 1.2 with the server's key block, record sequence `seq`. */
function alert12(master: Buffer, clientRandom: Buffer, serverRandom: Buffer, description: number, seq: number): Buffer {
  const block = prf12(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 40);
  const key = block.subarray(16, 32);
  const salt = block.subarray(36, 40);
  const explicit = Buffer.alloc(8);
  explicit.writeBigUInt64BE(BigInt(seq));
  const plain = Buffer.from([2, description]);
  const aad = Buffer.concat([explicit, Buffer.from([21, 3, 3, 0, plain.length])]);
  const sealed = gcm(key, Buffer.concat([salt, explicit]), aad, plain);
  const body = Buffer.concat([explicit, sealed]);
  return Buffer.concat([Buffer.from([21, 3, 3, body.length >> 8, body.length & 0xff]), body]);
}

/** The first alert under the server's application traffic secret (TLS 1.3, sequence 0). */
function alert13(serverSecret: Buffer, description: number): Buffer {
  const key = expandLabel(serverSecret, 'key', 16);
  const iv = expandLabel(serverSecret, 'iv', 12);
  const inner = Buffer.from([2, description, 21]); // TLSInnerPlaintext: alert, content type 21
  const header = Buffer.from([23, 3, 3, 0, inner.length + 16]);
  return Buffer.concat([header, gcm(key, iv, header, inner)]);
}

/** Splits a byte stream into TLS records as they complete. */
function records(onRecord: (record: Buffer) => void): (chunk: Buffer) => void {
  let buf = Buffer.alloc(0);
  return (chunk) => {
    buf = Buffer.concat([buf, chunk]);
    while (buf.length >= 5) {
      const len = 5 + buf.readUInt16BE(3);
      if (buf.length < len) return;
      onRecord(buf.subarray(0, len));
      buf = buf.subarray(len);
    }
  };
}

/**
 * Starts the relay: every connection is a real handshake with `creds` in `version`, after
 * which the client receives the fatal alert `description` (80, internal_error, by default).
 */
export async function startAlertServer(
  creds: ServerCreds,
  version: 'TLSv1.2' | 'TLSv1.3',
  description = 80,
  /** The server also asks for a client certificate (and accepts the session without one). */
  requestCert = false,
): Promise<AlertServer> {
  const keylog = new Map<string, Map<string, Buffer>>();
  const backend = createTlsServer({
    ...creds,
    minVersion: version,
    maxVersion: version,
    requestCert,
    rejectUnauthorized: false,
    ciphers: version === 'TLSv1.2' ? 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256' : 'TLS_AES_128_GCM_SHA256',
  });
  backend.on('keylog', (line: Buffer, _tls: TLSSocket) => {
    const [label, random, secret] = line.toString('latin1').trim().split(' ');
    if (label === undefined || random === undefined || secret === undefined) return;
    const forRandom = keylog.get(random) ?? new Map<string, Buffer>();
    forRandom.set(label, Buffer.from(secret, 'hex'));
    keylog.set(random, forRandom);
  });
  backend.on('secureConnection', (s) => s.on('error', () => {}));
  backend.on('tlsClientError', () => {});
  await new Promise<void>((resolve) => backend.listen(0, '127.0.0.1', resolve));
  const backendPort = (backend.address() as AddressInfo).port;
  const sockets = new Set<Socket>();

  const relay = createServer((client) => {
    const server = connect(backendPort, '127.0.0.1');
    for (const s of [client, server]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    let clientRandom: Buffer | null = null;
    let serverRandom: Buffer | null = null;
    let serverChangedCipher = false;
    let done = false;
    const inject = (record: Buffer): void => {
      done = true;
      client.end(record);
      server.destroy();
    };
    const secret = (label: string): Buffer | undefined => keylog.get(clientRandom?.toString('hex') ?? '')?.get(label);

    client.on(
      'data',
      records((r) => {
        if (done) return;
        if (r[0] === 22 && r[5] === 1 && clientRandom === null) clientRandom = Buffer.from(r.subarray(11, 43));
        // TLS 1.3: the client's first encrypted record is its Finished; the server's answer
        // to it is replaced by the alert.
        if (version === 'TLSv1.3' && r[0] === 23) {
          const s = secret('SERVER_TRAFFIC_SECRET_0');
          if (s !== undefined) return inject(alert13(s, description));
        }
        server.write(r);
      }),
    );
    server.on(
      'data',
      records((r) => {
        if (done) return;
        if (r[0] === 22 && r[5] === 2 && serverRandom === null) serverRandom = Buffer.from(r.subarray(11, 43));
        client.write(r);
        if (version !== 'TLSv1.2') return;
        if (r[0] === 20) serverChangedCipher = true;
        else if (r[0] === 22 && serverChangedCipher) {
          // The server's Finished went out under sequence number 0 of the new keys.
          const master = secret('CLIENT_RANDOM');
          if (master !== undefined && clientRandom !== null && serverRandom !== null) inject(alert12(master, clientRandom, serverRandom, description, 1));
        }
      }),
    );
    client.on('close', () => server.destroy());
    server.on('close', () => {
      if (!done) client.destroy();
    });
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  return {
    port: (relay.address() as AddressInfo).port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([new Promise((r) => relay.close(r)), new Promise((r) => backend.close(r))]);
    },
  };
}
