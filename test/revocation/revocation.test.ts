import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TrustStore } from '../../src/cert/trust.ts';
import type { JudgeInput, Problem } from '../../src/cert/types.ts';
import { HttpClient } from '../../src/net/http-client.ts';
import { Revocation } from '../../src/revocation/index.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { revocationPki, type RevocationPki } from '../helpers/revocation-pki.ts';

let pki: RevocationPki;
let trust: TrustStore;

before(async () => {
  pki = await revocationPki();
  trust = TrustStore.fromPem(pki.root.pem, 'test root');
});
after(() => pki.close());

const loopbackOnly = createAddressPolicy({ allowCidrs: ['127.0.0.1/32'] });
const service = (policy = loopbackOnly, timeoutMs = 2000): Revocation => new Revocation({ http: new HttpClient({ addressPolicy: policy, timeoutMs }) });
const input = (chain: Buffer[], name: string, now = new Date()): JudgeInput => ({ chain, tlsVersion: 'TLSv1.3', expectedName: name, now, warnDays: 0, critDays: 0 });
const codes = (ps: Problem[]): string[] => ps.map((p) => p.code).sort();

test('ocsp: a responder saying revoked gives REVOKED (critical) naming the certificate, date, reason and source', async () => {
  const j = await service().judge({ judge: input([pki.revoked.der, pki.inter.der], 'revoke.test'), trust, staple: null });
  const p = j.problems.find((x) => x.code === 'REVOKED');
  assert.ok(p, JSON.stringify(j.problems));
  assert.equal(p.severity, 'critical');
  assert.match(p.message, /revoked\.revoke\.test.*2025-03-01.*keyCompromise.*OCSP responder http:\/\/127\.0\.0\.1/);
  assert.equal(j.trusted, false);
});

test('ocsp: a good certificate has no revocation finding, and the answer is cached by issuer and serial', async () => {
  const s = service();
  const before = pki.hits.get('/ocsp') ?? 0;
  for (let i = 0; i < 3; i++) {
    const j = await s.judge({ judge: input([pki.good.der, pki.inter.der], 'revoke.test'), trust, staple: null });
    assert.deepEqual(codes(j.problems), [], JSON.stringify(j.problems));
    assert.equal(j.trusted, true);
  }
  assert.equal((pki.hits.get('/ocsp') ?? 0) - before, 1);
});

test('ocsp: a request whose GET URL would pass 255 bytes is POSTed as application/ocsp-request (RFC 5019 section 5)', async () => {
  const j = await service().judge({ judge: input([pki.longOcsp.der, pki.inter.der], 'revoke.test'), trust, staple: null });
  assert.match(j.problems.find((x) => x.code === 'REVOKED')?.message ?? '', /long-ocsp\.revoke\.test.*keyCompromise.*OCSP responder/, JSON.stringify(j.problems));
  assert.deepEqual(pki.longOcspRequests, ['POST application/ocsp-request']);
});

test('staple: a valid fresh staple saying good is used and the responder is not asked', async () => {
  const before = pki.hits.get('/ocsp') ?? 0;
  const j = await service().judge({ judge: input([pki.good.der, pki.inter.der], 'revoke.test'), trust, staple: pki.ocspFor(pki.good) });
  assert.deepEqual(codes(j.problems), []);
  assert.equal(pki.hits.get('/ocsp') ?? 0, before);
});

test('staple: a stapled revoked response gives REVOKED from the staple', async () => {
  const j = await service().judge({ judge: input([pki.revoked.der, pki.inter.der], 'revoke.test'), trust, staple: pki.ocspFor(pki.revoked) });
  assert.match(j.problems.find((x) => x.code === 'REVOKED')?.message ?? '', /stapled OCSP response/);
});

test('staple: a stale staple is STAPLE_INVALID (warning) and the responder decides', async () => {
  const later = new Date(Date.now() + 3 * 3_600_000);
  const j = await service().judge({ judge: input([pki.good.der, pki.inter.der], 'revoke.test', later), trust, staple: pki.ocspFor(pki.good, 1) });
  const p = j.problems.find((x) => x.code === 'STAPLE_INVALID');
  assert.equal(p?.severity, 'warning');
  assert.match(p?.message ?? '', /expired at/);
  assert.ok(!j.problems.some((x) => x.code === 'REVOKED'));
});

test('staple: a staple about another certificate, or corrupted, is STAPLE_INVALID and never REVOKED', async () => {
  const other = pki.ocspFor(pki.revoked);
  const j = await service().judge({ judge: input([pki.good.der, pki.inter.der], 'revoke.test'), trust, staple: other });
  assert.match(j.problems.find((x) => x.code === 'STAPLE_INVALID')?.message ?? '', /no matching CertID/);
  assert.ok(!j.problems.some((x) => x.code === 'REVOKED'));
  // Flip a byte of the signed data (the serial in the CertID): the signature must fail.
  const bad = Buffer.from(pki.ocspFor(pki.revoked));
  const at = bad.indexOf(Buffer.from(pki.revoked.serialHex, 'hex'));
  assert.ok(at > 0);
  bad[at + 1]! ^= 0x01;
  const k = await service().judge({ judge: input([pki.revoked.der, pki.inter.der], 'revoke.test'), trust, staple: bad });
  assert.match(k.problems.find((x) => x.code === 'STAPLE_INVALID')?.message ?? '', /signature does not verify/);
  // The responder, asked next, still finds the truth.
  assert.ok(k.problems.some((x) => x.code === 'REVOKED'));
});

test('ssrf: a responder URL on a blocked address is REVOCATION_UNKNOWN (warning), never fetched, never REVOKED', async () => {
  const before = pki.hits.get('/ocsp') ?? 0;
  const j = await service(createAddressPolicy()).judge({ judge: input([pki.revoked.der, pki.inter.der], 'revoke.test'), trust, staple: null });
  const p = j.problems.find((x) => x.code === 'REVOCATION_UNKNOWN');
  assert.equal(p?.severity, 'warning');
  assert.match(p?.message ?? '', /BLOCKED.*loopback/);
  assert.ok(!j.problems.some((x) => x.code === 'REVOKED'));
  assert.equal(pki.hits.get('/ocsp') ?? 0, before);
});

test('ocsp: a slow responder is REVOCATION_UNKNOWN (TIMEOUT) within the deadline, never REVOKED', async () => {
  const s = service(loopbackOnly, 300);
  const saved = pki.routes.get('/ocsp')!;
  pki.routes.set('/ocsp', () => {});
  try {
    const t0 = Date.now();
    const j = await s.judge({ judge: input([pki.revoked.der, pki.inter.der], 'revoke.test'), trust, staple: null });
    assert.ok(Date.now() - t0 < 2000);
    assert.match(j.problems.find((x) => x.code === 'REVOCATION_UNKNOWN')?.message ?? '', /TIMEOUT/);
    assert.ok(!j.problems.some((x) => x.code === 'REVOKED'));
  } finally {
    pki.routes.set('/ocsp', saved);
  }
});

test('aia: a leaf sent without its intermediate is CHAIN_INCOMPLETE naming the intermediate and its URL', async () => {
  const j = await service().judge({ judge: input([pki.good.der], 'revoke.test'), trust, staple: null });
  const p = j.problems.find((x) => x.code === 'CHAIN_INCOMPLETE');
  assert.ok(p, JSON.stringify(j.problems));
  assert.match(p.message, /browsers will cope.*OpenSSL-based clients.*will not: serve "revocation test intermediate", available at http:\/\/127\.0\.0\.1:\d+\/issuer\//);
  assert.ok(!j.problems.some((x) => x.code === 'UNTRUSTED'));
});

test('aia: a caIssuers certificate that did not sign the leaf leaves CHAIN_INCOMPLETE and says why', async () => {
  const j = await service().judge({ judge: input([pki.wrongAia.der], 'revoke.test'), trust, staple: null });
  assert.match(j.problems.find((x) => x.code === 'CHAIN_INCOMPLETE')?.message ?? '', /did not sign/);
});

test('aia: when the fetched intermediate leads to no trusted CA the finding is UNTRUSTED', async () => {
  const other = TrustStore.empty();
  const j = await service().judge({ judge: input([pki.good.der], 'revoke.test'), trust: other, staple: null });
  assert.ok(j.problems.some((x) => x.code === 'UNTRUSTED'), JSON.stringify(j.problems));
  assert.ok(!j.problems.some((x) => x.code === 'CHAIN_INCOMPLETE'));
});

test('order: a stale CRL does not stop the check: the OCSP responder then finds the certificate revoked', async () => {
  pki.crlBody.current = await pki.crl([], -3_600_000);
  try {
    const j = await service().judge({ judge: input([pki.revoked.der, pki.inter.der], 'revoke.test'), trust, staple: null });
    assert.match(j.problems.find((x) => x.code === 'REVOKED')?.message ?? '', /OCSP responder/, JSON.stringify(j.problems));
    assert.ok(!j.problems.some((x) => x.code === 'REVOCATION_UNKNOWN'));
  } finally {
    pki.crlBody.current = null;
  }
});

test('order: a fresh CRL covering the certificate answers, and the responder is not asked', async () => {
  pki.crlBody.current = await pki.crl([pki.revoked], 3_600_000);
  const before = pki.hits.get('/ocsp') ?? 0;
  try {
    const j = await service().judge({ judge: input([pki.revoked.der, pki.inter.der], 'revoke.test'), trust, staple: null });
    assert.match(j.problems.find((x) => x.code === 'REVOKED')?.message ?? '', /per the CRL of "revocation test intermediate".*\/crl\)/);
    assert.equal(pki.hits.get('/ocsp') ?? 0, before);
  } finally {
    pki.crlBody.current = null;
  }
});

test('crl: a distribution point limited to some reasons answers REVOKED when its CRL lists the certificate, never good when it does not (RFC 5280 6.3.3 (d))', async () => {
  pki.crlBody.current = await pki.crl([], 3_600_000);
  try {
    const j = await service().judge({ judge: input([pki.crlPartial.der, pki.inter.der], 'revoke.test'), trust, staple: null });
    const p = j.problems.find((x) => x.code === 'REVOCATION_UNKNOWN');
    assert.match(p?.message ?? '', /crl-partial\.revoke\.test.*only some revocation reasons/, JSON.stringify(j.problems));
    assert.equal(p?.severity, 'warning');
    pki.crlBody.current = await pki.crl([pki.crlPartial], 3_600_000);
    const k = await service().judge({ judge: input([pki.crlPartial.der, pki.inter.der], 'revoke.test'), trust, staple: null });
    assert.match(k.problems.find((x) => x.code === 'REVOKED')?.message ?? '', /crl-partial\.revoke\.test.*keyCompromise.*\/crl\)/, JSON.stringify(k.problems));
  } finally {
    pki.crlBody.current = null;
  }
});

for (const [name, handler, code] of [
  ['oversized', (_q: unknown, res: import('node:http').ServerResponse) => res.writeHead(200).end(Buffer.alloc(9 * 1024 * 1024)), /TOO_LARGE/],
  ['slow', () => {}, /TIMEOUT/],
  ['redirecting in a loop', (_q: unknown, res: import('node:http').ServerResponse) => res.writeHead(302, { location: '/crl' }).end(), /TOO_MANY_REDIRECTS/],
] as const) {
  test(`crl: an ${name} CRL answer for a leaf with only a CRL is REVOCATION_UNKNOWN, never REVOKED`, async () => {
    const saved = pki.routes.get('/crl')!;
    pki.routes.set('/crl', handler);
    try {
      const j = await service(loopbackOnly, 500).judge({ judge: input([pki.crlRevoked.der, pki.inter.der], 'revoke.test'), trust, staple: null });
      const p = j.problems.find((x) => x.code === 'REVOCATION_UNKNOWN');
      assert.equal(p?.severity, 'warning');
      assert.match(p?.message ?? '', code);
      assert.ok(!j.problems.some((x) => x.code === 'REVOKED'));
    } finally {
      pki.routes.set('/crl', saved);
    }
  });
}

test('policy: hard-fail makes an unusable CRL critical, still never REVOKED', async () => {
  pki.crlBody.current = await pki.crl([pki.crlRevoked], -3_600_000);
  try {
    const j = await service().judge({ judge: { ...input([pki.crlRevoked.der, pki.inter.der], 'revoke.test'), revocationPolicy: 'hard-fail' }, trust, staple: null });
    assert.equal(j.problems.find((x) => x.code === 'REVOCATION_UNKNOWN')?.severity, 'critical');
    assert.ok(!j.problems.some((x) => x.code === 'REVOKED'));
  } finally {
    pki.crlBody.current = null;
  }
});

test('budget: silent CRL and OCSP servers hold one judge() no longer than its budget; nothing unchecked is called good, and the caches keep no budget failure', async () => {
  const stalled: import('node:http').ServerResponse[] = [];
  const saved = { crl: pki.routes.get('/crl')!, ocsp: pki.routes.get('/ocsp')! };
  const stall = (_q: unknown, res: import('node:http').ServerResponse): void => void stalled.push(res);
  pki.routes.set('/crl', stall);
  pki.routes.set('/ocsp', stall);
  // Each fetch may wait 3 s; the budget for the whole check is 400 ms.
  const s = new Revocation({ http: new HttpClient({ addressPolicy: loopbackOnly, timeoutMs: 3000 }), budgetMs: 400 });
  try {
    const t0 = performance.now();
    const j = await s.judge({ judge: input([pki.good.der, pki.inter.der], 'revoke.test'), trust, staple: null });
    const took = performance.now() - t0;
    assert.ok(took < 1500, `judge() took ${Math.round(took)} ms with a 400 ms budget`);
    const p = j.problems.find((x) => x.code === 'REVOCATION_UNKNOWN');
    assert.equal(p?.severity, 'warning');
    assert.match(p?.message ?? '', /revocation and AIA fetches ran out/);
    assert.ok(!j.problems.some((x) => x.code === 'REVOKED'));
    // The CRL fetch was started before the budget ran out and goes on; the OCSP one was never
    // started (the CRL used the whole budget), so no failure is remembered for either URL yet.
    assert.equal(s.ocsp.size, 0);
  } finally {
    pki.routes.set('/crl', saved.crl);
    pki.routes.set('/ocsp', saved.ocsp);
    for (const res of stalled) res.writeHead(503).end();
  }
  // With the servers back, the same service checks the certificate in full.
  await new Promise((r) => setTimeout(r, 50));
  const again = await s.judge({ judge: input([pki.good.der, pki.inter.der], 'revoke.test'), trust, staple: null });
  assert.ok(!again.problems.some((x) => /ran out/.test(x.message)), JSON.stringify(again.problems));
});
