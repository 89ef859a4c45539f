// A test PKI with revocation URLs (AIA caIssuers and OCSP, CRL distribution points) pointing
// at a loopback HTTP server that serves the intermediate, CRLs, and real OCSP responses made
// by `openssl ocsp` from an index file. Everything is generated here.
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const DAY = 86_400_000;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
let serial = 0x1000;

/** A generated certificate with its key in PEM. */
export interface Made {
  der: Buffer;
  pem: string;
  keyPem: string;
  keys: CryptoKeyPair;
  cert: x509.X509Certificate;
  serialHex: string;
}

async function make(o: { name: string; issuer: Made | null; ca: boolean; base?: string; ocsp?: boolean; ocspPath?: string; crlPath?: string; crlReasons?: boolean; sans?: string[] }): Promise<Made> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
  const subject = `CN=${o.name},O=certwatch revocation tests`;
  const exts: x509.Extension[] = [
    new x509.BasicConstraintsExtension(o.ca, undefined, true),
    new x509.KeyUsagesExtension(o.ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(o.issuer ? o.issuer.keys.publicKey : keys.publicKey),
  ];
  if (!o.ca) exts.push(new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1']), new x509.SubjectAlternativeNameExtension((o.sans ?? [o.name, 'revoke.test']).map((v) => ({ type: 'dns' as const, value: v }))));
  if (o.base !== undefined && o.issuer !== null) {
    exts.push(new x509.AuthorityInfoAccessExtension({ caIssuers: [`${o.base}/issuer/${o.issuer.serialHex}`], ...(o.ocsp === false ? {} : { ocsp: [`${o.base}${o.ocspPath ?? '/ocsp'}`] }) }));
    if (o.crlPath !== undefined && o.crlReasons === true) {
      // A distribution point for keyCompromise only: reasons [1] ReasonFlags, bit 1 (RFC 5280 4.2.1.13).
      const t = (tag: number, ...parts: Buffer[]): Buffer => {
        const body = Buffer.concat(parts);
        return Buffer.concat([Buffer.from([tag, body.length]), body]);
      };
      const dp = t(0x30, t(0x30, t(0xa0, t(0xa0, t(0x86, Buffer.from(`${o.base}${o.crlPath}`, 'latin1')))), t(0x81, Buffer.from([0x06, 0x40]))));
      exts.push(new x509.Extension('2.5.29.31', false, new Uint8Array(dp)));
    } else if (o.crlPath !== undefined) exts.push(new x509.CRLDistributionPointsExtension([`${o.base}${o.crlPath}`]));
  }
  const serialHex = (serial++).toString(16);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialHex,
    subject,
    issuer: o.issuer ? o.issuer.cert.subject : subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 90 * DAY),
    publicKey: keys.publicKey,
    signingKey: o.issuer ? o.issuer.keys.privateKey : keys.privateKey,
    signingAlgorithm: alg,
    extensions: exts,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64').replace(/.{64}/g, '$&\n');
  return { der: Buffer.from(cert.rawData), pem: cert.toString('pem') + '\n', keyPem: `-----BEGIN PRIVATE KEY-----\n${pkcs8}\n-----END PRIVATE KEY-----\n`, keys, cert, serialHex };
}

/** The PKI and its loopback server; `hits` counts requests per path prefix. */
export interface RevocationPki {
  root: Made;
  inter: Made;
  good: Made;
  revoked: Made;
  /** A leaf whose AIA caIssuers URL serves a certificate that did not sign it. */
  wrongAia: Made;
  /** Leaves with a CRL distribution point (`/crl`) and no OCSP URL; `crlRevoked` is listed by `crl()`s callers. */
  crlGood: Made;
  crlRevoked: Made;
  /** A leaf with no OCSP URL whose one CRL distribution point (`/crl`) is for keyCompromise only (a reasons field). */
  crlPartial: Made;
  /** A revoked leaf whose OCSP URL (`/ocsplong/...`) is so long that a GET request would exceed 255 bytes (RFC 5019 section 5). */
  longOcsp: Made;
  /** Method and content type of each request `/ocsplong` received. */
  longOcspRequests: string[];
  /** What `/crl` serves (null: 404); tests set it. */
  crlBody: { current: Buffer | null };
  base: string;
  hits: Map<string, number>;
  /** Override a path's handler (e.g. slow, oversized, redirecting). */
  routes: Map<string, (req: IncomingMessage, res: ServerResponse) => void>;
  /** An OCSP response made by openssl for `cert` (issued by the intermediate), valid `minutes`. */
  ocspFor: (cert: Made, minutes?: number) => Buffer;
  /** A CRL of the intermediate listing `revoked` (keyCompromise, a day ago), with a CRLNumber; `signer` forges it with another key. */
  crl: (revoked: Made[], nextUpdateMs: number, o?: { signer?: CryptoKey }) => Promise<Buffer>;
  close: () => Promise<void>;
}

/** Starts the server on 127.0.0.1 port 0, then issues certificates naming it. */
export async function revocationPki(): Promise<RevocationPki> {
  const hits = new Map<string, number>();
  const routes = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>();
  const dir = mkdtempSync(join(tmpdir(), 'certwatch-ocsp-'));
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '/';
    const prefix = `/${url.split('/')[1] ?? ''}`;
    hits.set(prefix, (hits.get(prefix) ?? 0) + 1);
    const handler = routes.get(prefix);
    if (handler === undefined) {
      res.writeHead(404).end();
      return;
    }
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const root = await make({ name: 'revocation test root', issuer: null, ca: true });
  const inter = await make({ name: 'revocation test intermediate', issuer: root, ca: true, base, ocsp: false });
  // These two list the CRL too; `/crl` answers 404 until a test sets `crlBody`, so the responder decides.
  const good = await make({ name: 'good.revoke.test', issuer: inter, ca: false, base, crlPath: '/crl' });
  const revoked = await make({ name: 'revoked.revoke.test', issuer: inter, ca: false, base, crlPath: '/crl' });
  const wrongAia = await make({ name: 'wrong-aia.revoke.test', issuer: inter, ca: false, base: `${base}/wrong` });
  const crlGood = await make({ name: 'crl-good.revoke.test', issuer: inter, ca: false, base, ocsp: false, crlPath: '/crl' });
  const crlRevoked = await make({ name: 'crl-revoked.revoke.test', issuer: inter, ca: false, base, ocsp: false, crlPath: '/crl' });
  const longOcsp = await make({ name: 'long-ocsp.revoke.test', issuer: inter, ca: false, base, ocspPath: `/ocsplong/${'a'.repeat(160)}` });
  const crlPartial = await make({ name: 'crl-partial.revoke.test', issuer: inter, ca: false, base, ocsp: false, crlPath: '/crl', crlReasons: true });
  const crlBody: { current: Buffer | null } = { current: null };
  routes.set('/crl', (_req, res) => {
    if (crlBody.current === null) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crlBody.current);
  });
  writeFileSync(join(dir, 'inter.pem'), inter.pem);
  writeFileSync(join(dir, 'inter.key'), inter.keyPem);
  const exp = '301231000000Z';
  writeFileSync(
    join(dir, 'index.txt'),
    `V\t${exp}\t\t${good.serialHex.toUpperCase()}\tunknown\t/CN=good\nR\t${exp}\t250301120000Z,keyCompromise\t${revoked.serialHex.toUpperCase()}\tunknown\t/CN=revoked\nR\t${exp}\t250301120000Z,keyCompromise\t${longOcsp.serialHex.toUpperCase()}\tunknown\t/CN=long-ocsp\n`,
  );
  let n = 0;
  const respond = (reqDer: Buffer, minutes = 60): Buffer => {
    const id = n++;
    const reqFile = join(dir, `req${id}.der`);
    const respFile = join(dir, `resp${id}.der`);
    writeFileSync(reqFile, reqDer);
    execFileSync('openssl', ['ocsp', '-index', join(dir, 'index.txt'), '-rsigner', join(dir, 'inter.pem'), '-rkey', join(dir, 'inter.key'), '-CA', join(dir, 'inter.pem'), '-reqin', reqFile, '-respout', respFile, '-nmin', String(minutes)], { stdio: 'ignore' });
    return readFileSync(respFile);
  };
  const ocspFor = (cert: Made, minutes = 60): Buffer => {
    const certFile = join(dir, `c${n}.pem`);
    const reqFile = join(dir, `r${n++}.der`);
    writeFileSync(certFile, cert.pem);
    execFileSync('openssl', ['ocsp', '-issuer', join(dir, 'inter.pem'), '-cert', certFile, '-no_nonce', '-reqout', reqFile], { stdio: 'ignore' });
    return respond(readFileSync(reqFile), minutes);
  };
  routes.set('/issuer', (req, res) => {
    const wanted = (req.url ?? '').split('/')[2];
    const c = [root, inter].find((x) => x.serialHex === wanted);
    if (c === undefined) res.writeHead(404).end();
    else res.writeHead(200, { 'content-type': 'application/pkix-cert' }).end(c.der);
  });
  routes.set('/wrong', (_req, res) => res.writeHead(200, { 'content-type': 'application/pkix-cert' }).end(root.der));
  routes.set('/ocsp', (req, res) => {
    const b64 = decodeURIComponent((req.url ?? '').slice('/ocsp/'.length));
    try {
      const body = respond(Buffer.from(b64, 'base64'));
      res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(body);
    } catch {
      res.writeHead(400).end();
    }
  });
  // A responder that takes POST only: a GET this long is what RFC 5019 section 5 says not to send.
  const longOcspRequests: string[] = [];
  routes.set('/ocsplong', (req, res) => {
    longOcspRequests.push(`${req.method} ${req.headers['content-type'] ?? ''}`);
    if (req.method !== 'POST') {
      res.writeHead(414).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        res.writeHead(200, { 'content-type': 'application/ocsp-response' }).end(respond(Buffer.concat(chunks)));
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  let crlNumber = 1;
  const crl = async (list: Made[], nextUpdateMs: number, o: { signer?: CryptoKey } = {}): Promise<Buffer> => {
    const c = await x509.X509CrlGenerator.create({
      issuer: inter.cert.subject,
      thisUpdate: new Date(Date.now() - 60_000 + Math.min(0, nextUpdateMs)),
      nextUpdate: new Date(Date.now() + nextUpdateMs),
      entries: list.map((m) => ({ serialNumber: m.serialHex, revocationDate: new Date(Date.now() - DAY), reason: x509.X509CrlReason.keyCompromise })),
      signingAlgorithm: alg,
      signingKey: o.signer ?? inter.keys.privateKey,
      // RFC 5280 5.2.3: conforming CRLs carry a CRLNumber, and certwatch uses no CRL without one.
      extensions: [new x509.Extension('2.5.29.20', false, Buffer.from([0x02, 0x01, crlNumber++ & 0x7f]))],
    });
    return Buffer.from(c.rawData);
  };
  return {
    root,
    inter,
    good,
    revoked,
    wrongAia,
    crlGood,
    crlRevoked,
    crlPartial,
    longOcsp,
    longOcspRequests,
    crlBody,
    base,
    hits,
    routes,
    ocspFor,
    crl,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
