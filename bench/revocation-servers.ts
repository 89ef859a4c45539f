// Servers for `revocation-bench.ts --scheduled-run`, in a child process so that their CPU is
// not counted against the probes measured in the parent: one root, 5 intermediate CAs, N
// leaves (leaf i from CA i % 5, SNI name t<i>.bench.test, every 97th revoked), one TLS server
// choosing the leaf by SNI, and one HTTP server with the 6 CRLs (root and each CA, CRLNumber,
// nextUpdate in 1 h) and an OCSP URL. Requests are counted per path; the parent asks for the
// counts over IPC ({ kind: 'hits' }).
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createSecureContext, createServer as createTlsServer, type SecureContext } from 'node:tls';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

/** What the parent receives once the servers listen. */
export interface RevocationBenchServers {
  tlsPort: number;
  rootPem: string;
  revokedEvery: number;
}

const N = Number(process.argv[2] ?? 10_000);
const CAS = 5;
const revokedEvery = 97;
const DAY = 86_400_000;
const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
const hits = new Map<string, number>();

const http = createHttpServer((req, res) => {
  const path = req.url ?? '/';
  const key = path.startsWith('/ocsp') ? '/ocsp' : path;
  hits.set(key, (hits.get(key) ?? 0) + 1);
  const crl = crls.get(path);
  // The CRLs answer for every certificate here, so the responder should never be asked.
  if (crl === undefined) res.writeHead(path.startsWith('/ocsp') ? 503 : 404).end();
  else res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crl);
});
await new Promise<void>((r) => http.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, r));
const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
const crls = new Map<string, Buffer>();

const key = async (): Promise<CryptoKeyPair> => (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as CryptoKeyPair;
let serial = 0x10000;
async function issue(name: string, keys: CryptoKeyPair, issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair } | null, ca: boolean, crlPath: string | null): Promise<x509.X509Certificate> {
  const exts: x509.Extension[] = [
    new x509.BasicConstraintsExtension(ca, undefined, true),
    new x509.KeyUsagesExtension(ca ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
  ];
  if (!ca) exts.push(new x509.ExtendedKeyUsageExtension(['1.3.6.1.5.5.7.3.1']), new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }]));
  if (issuer !== null) exts.push(new x509.AuthorityInfoAccessExtension({ ocsp: [`${base}/ocsp`] }));
  if (crlPath !== null) exts.push(new x509.CRLDistributionPointsExtension([`${base}${crlPath}`]));
  return x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16),
    subject: `CN=${name}`,
    issuer: issuer === null ? `CN=${name}` : issuer.cert.subject,
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + 90 * DAY),
    publicKey: keys.publicKey,
    signingKey: (issuer ?? { keys }).keys.privateKey,
    signingAlgorithm: alg,
    extensions: exts,
  });
}
async function makeCrl(issuer: { cert: x509.X509Certificate; keys: CryptoKeyPair }, revoked: string[]): Promise<Buffer> {
  const c = await x509.X509CrlGenerator.create({
    issuer: issuer.cert.subject,
    thisUpdate: new Date(Date.now() - 60_000),
    nextUpdate: new Date(Date.now() + 3_600_000),
    entries: revoked.map((s) => ({ serialNumber: s, revocationDate: new Date(Date.now() - DAY), reason: x509.X509CrlReason.keyCompromise })),
    signingAlgorithm: alg,
    signingKey: issuer.keys.privateKey,
    extensions: [new x509.Extension('2.5.29.20', false, Buffer.from([0x02, 0x01, 0x01]))],
  });
  return Buffer.from(c.rawData);
}
const pem = (c: x509.X509Certificate): string => c.toString('pem') + '\n';
const keyPem = async (k: CryptoKey): Promise<string> => `-----BEGIN PRIVATE KEY-----\n${Buffer.from(await webcrypto.subtle.exportKey('pkcs8', k)).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;

const rootKeys = await key();
const root = { cert: await issue('bench revocation root', rootKeys, null, true, null), keys: rootKeys };
const cas: { cert: x509.X509Certificate; keys: CryptoKeyPair; revoked: string[] }[] = [];
for (let i = 0; i < CAS; i++) {
  const keys = await key();
  cas.push({ cert: await issue(`bench CA ${i}`, keys, root, true, '/crl/root'), keys, revoked: [] });
}
// One key for every leaf: key generation is not what is measured.
const leafKeys = await key();
const leafKeyPem = await keyPem(leafKeys.privateKey);
const contexts = new Map<string, SecureContext>();
for (let i = 0; i < N; i++) {
  const ca = cas[i % CAS]!;
  const leaf = await issue(`t${i}.bench.test`, leafKeys, ca, false, `/crl/ca${i % CAS}`);
  if (i % revokedEvery === 0) ca.revoked.push(leaf.serialNumber);
  contexts.set(`t${i}.bench.test`, createSecureContext({ cert: pem(leaf) + pem(ca.cert), key: leafKeyPem }));
}
crls.set('/crl/root', await makeCrl(root, []));
for (const [i, ca] of cas.entries()) crls.set(`/crl/ca${i}`, await makeCrl(ca, ca.revoked));

const tls = createTlsServer({ SNICallback: (name, cb) => cb(null, contexts.get(name)) }, (s) => {
  s.on('error', () => {});
  s.end();
});
tls.on('tlsClientError', () => {});
await new Promise<void>((r) => tls.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, r));

const ready: RevocationBenchServers = { tlsPort: (tls.address() as AddressInfo).port, rootPem: pem(root.cert), revokedEvery };
process.on('message', () => process.send?.(Object.fromEntries(hits)));
process.send?.(ready);
process.on('disconnect', () => process.exit(0));
