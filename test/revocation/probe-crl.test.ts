// End to end through the Prober: a loopback TLS server whose leaf names a CRL distribution
// point (and no OCSP responder) on the loopback HTTP server of the test PKI.
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { TrustStore } from '../../src/cert/trust.ts';
import { HttpClient } from '../../src/net/http-client.ts';
import { Prober } from '../../src/probe/probe.ts';
import type { ProbeResult } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { Revocation } from '../../src/revocation/index.ts';
import { createAddressPolicy, type AddressPolicy } from '../../src/security/address-policy.ts';
import { revocationPki, type Made, type RevocationPki } from '../helpers/revocation-pki.ts';

let pki: RevocationPki;
const servers: Server[] = [];
const ports = new Map<Made, number>();
const HOUR = 3_600_000;

before(async () => {
  pki = await revocationPki();
  for (const leaf of [pki.crlGood, pki.crlRevoked]) {
    const s = createServer({ cert: leaf.pem + pki.inter.pem, key: leaf.keyPem });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
    ports.set(leaf, (s.address() as AddressInfo).port);
  }
});
after(async () => {
  for (const s of servers) s.close();
  await pki.close();
});

const loopbackOnly = createAddressPolicy({ allowCidrs: ['127.0.0.1/32'] });

async function probe(leaf: Made, policy: AddressPolicy = loopbackOnly): Promise<ProbeResult> {
  const prober = new Prober({ trust: TrustStore.fromPem(pki.root.pem, 'test root'), revocation: new Revocation({ http: new HttpClient({ addressPolicy: policy, timeoutMs: 2000 }) }) });
  const [r] = await prober.probe(parseTarget(`127.0.0.1:${ports.get(leaf)}`, { servername: 'revoke.test' }), { timeoutMs: 5000, warnDays: 0, critDays: 0 });
  assert.ok(r !== undefined);
  return r;
}

const crlHits = (): number => pki.hits.get('/crl') ?? 0;

test('crl: a leaf listed on its fresh CRL is REVOKED (critical) naming the certificate, date, reason and CRL URL', async () => {
  pki.crlBody.current = await pki.crl([pki.crlRevoked], HOUR);
  const r = await probe(pki.crlRevoked);
  assert.equal(r.status, 'critical', JSON.stringify(r.problems));
  const p = r.problems.find((x) => x.code === 'REVOKED');
  assert.equal(p?.severity, 'critical');
  const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
  assert.match(p?.message ?? '', new RegExp(`"crl-revoked\\.revoke\\.test.*revoked on ${yesterday}, reason keyCompromise, per the CRL of "revocation test intermediate".*http://127\\.0\\.0\\.1:\\d+/crl`));
  assert.equal(r.trusted, false);
});

test('crl: a leaf its fresh CRL does not list has no finding, and one Revocation fetches the CRL once', async () => {
  pki.crlBody.current = await pki.crl([pki.crlRevoked], HOUR);
  const before = crlHits();
  const prober = new Prober({ trust: TrustStore.fromPem(pki.root.pem, 'test root'), revocation: new Revocation({ http: new HttpClient({ addressPolicy: loopbackOnly }) }) });
  for (let i = 0; i < 3; i++) {
    const [r] = await prober.probe(parseTarget(`127.0.0.1:${ports.get(pki.crlGood)}`, { servername: 'revoke.test' }), { timeoutMs: 5000, warnDays: 0, critDays: 0 });
    assert.equal(r?.status, 'ok', JSON.stringify(r?.problems));
    assert.deepEqual(r?.problems, []);
  }
  assert.equal(crlHits() - before, 1);
});

test('crl: a stale CRL listing the leaf is REVOCATION_UNKNOWN (warning), never REVOKED', async () => {
  pki.crlBody.current = await pki.crl([pki.crlRevoked], -HOUR);
  const r = await probe(pki.crlRevoked);
  const p = r.problems.find((x) => x.code === 'REVOCATION_UNKNOWN');
  assert.equal(p?.severity, 'warning', JSON.stringify(r.problems));
  assert.match(p?.message ?? '', /stale.*which is not relied on/);
  assert.ok(!r.problems.some((x) => x.code === 'REVOKED'));
  assert.equal(r.status, 'warning');
});

test('crl: a CRL signed by another key is REVOCATION_UNKNOWN, never REVOKED', async () => {
  pki.crlBody.current = await pki.crl([pki.crlRevoked], HOUR, { signer: pki.root.keys.privateKey });
  const r = await probe(pki.crlRevoked);
  assert.match(r.problems.find((x) => x.code === 'REVOCATION_UNKNOWN')?.message ?? '', /signature does not verify/);
  assert.ok(!r.problems.some((x) => x.code === 'REVOKED'));
});

test('crl: a CRL URL on a blocked address is REVOCATION_UNKNOWN "blocked" and is never contacted', async () => {
  pki.crlBody.current = await pki.crl([pki.crlRevoked], HOUR);
  const before = crlHits();
  const r = await probe(pki.crlRevoked, createAddressPolicy());
  const p = r.problems.find((x) => x.code === 'REVOCATION_UNKNOWN');
  assert.equal(p?.severity, 'warning');
  assert.match(p?.message ?? '', /BLOCKED.*blocked/i);
  assert.ok(!r.problems.some((x) => x.code === 'REVOKED'));
  assert.equal(crlHits(), before);
});

test('crl: an unavailable CRL (404) is REVOCATION_UNKNOWN, never REVOKED', async () => {
  pki.crlBody.current = null;
  const r = await probe(pki.crlRevoked);
  assert.match(r.problems.find((x) => x.code === 'REVOCATION_UNKNOWN')?.message ?? '', /HTTP_STATUS/);
  assert.ok(!r.problems.some((x) => x.code === 'REVOKED'));
});
