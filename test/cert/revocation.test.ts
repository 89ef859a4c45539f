import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { parseCrl } from '../../src/cert/crl.ts';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { Judgement, JudgeInput, ProblemCode } from '../../src/cert/types.ts';
import { makeCa, makeCrl, makeLeaf, tlv, type Issued } from '../helpers/pki.ts';

const DAY = 86_400_000;

function run(chain: Issued[], root: Issued, crls: Buffer[], over: Partial<JudgeInput> = {}): Judgement {
  return judge({ chain: chain.map((c) => c.der), tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7, crls, ...over }, TrustStore.fromPem(root.certPem));
}

function only(j: Judgement): Array<[ProblemCode, string]> {
  return j.problems.map((p) => [p.code, p.severity]);
}

describe('revocation', async () => {
  const root = await makeCa({ name: 'crl root' });
  const inter = await makeCa({ issuer: root, name: 'crl inter' });
  const leaf = await makeLeaf(inter);
  const other = await makeLeaf(inter, { name: 'other leaf' });
  // The root's CRL (listing nothing), so that the intermediate is covered too.
  const rootCrl = await makeCrl(root);

  it('revocation: a leaf listed on its issuer\'s CRL is REVOKED with the date and reason, and not trusted', async () => {
    const date = new Date(Date.UTC(2025, 0, 2));
    const crl = await makeCrl(inter, { revoked: [{ cert: leaf, reason: x509.X509CrlReason.keyCompromise, date }] });
    const j = run([leaf, inter], root, [crl, rootCrl]);
    assert.deepEqual(only(j), [['REVOKED', 'critical']]);
    assert.match(j.problems[0]!.message, /^server certificate "localhost" \(serial [0-9A-F]+\) was revoked on 2025-01-02, reason keyCompromise, per the CRL of "crl inter"/);
    assert.equal(j.trusted, false);
  });

  it('revocation: a revoked intermediate is REVOKED naming the intermediate', async () => {
    const crl = await makeCrl(root, { revoked: [{ cert: inter }] });
    const j = run([leaf, inter], root, [crl, await makeCrl(inter)]);
    assert.deepEqual(only(j), [['REVOKED', 'critical']]);
    assert.match(j.problems[0]!.message, /^intermediate certificate "crl inter"/);
  });

  it('revocation: a fresh CRL that lists other serials leaves the chain trusted with no finding', async () => {
    const crl = await makeCrl(inter, { revoked: [{ cert: other }] });
    const j = run([leaf, inter], root, [crl, rootCrl]);
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
  });

  it('revocation: a stale CRL listing the leaf is REVOCATION_UNKNOWN (a warning), never REVOKED', async () => {
    const crl = await makeCrl(inter, { revoked: [{ cert: leaf }], thisUpdate: new Date(Date.now() - 20 * DAY), nextUpdate: new Date(Date.now() - 10 * DAY) });
    const j = run([leaf, inter], root, [crl]);
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.match(j.problems[0]!.message, /server certificate "localhost" is unknown: CRL 1 from "crl inter" is stale/);
    assert.equal(j.trusted, true);
    assert.deepEqual(only(run([leaf, inter], root, [crl], { revocationPolicy: 'hard-fail' })), [['REVOCATION_UNKNOWN', 'critical']]);
  });

  it('revocation: a CRL listing one serial twice is ambiguous and not used, even when the leaf is not on it', async () => {
    const crl = await makeCrl(inter, { revoked: [{ cert: other }], duplicateFirst: true });
    const parsed = parseCrl(crl);
    assert.ok(typeof parsed !== 'string');
    assert.match(parsed.defects.join(' '), /lists a serial number twice/);
    const j = run([leaf, inter], root, [crl, rootCrl]);
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.deepEqual(only(run([leaf, inter], root, [crl, rootCrl], { revocationPolicy: 'hard-fail' })), [['REVOCATION_UNKNOWN', 'critical']]);
    // Distinct serials, as in every CRL above, stay usable.
    assert.deepEqual(run([leaf, inter], root, [await makeCrl(inter, { revoked: [{ cert: other }, { cert: inter }] }), rootCrl]).problems, []);
  });

  it('revocation: a CRL not yet valid at the validation time is not used', async () => {
    const crl = await makeCrl(inter, { revoked: [{ cert: leaf }], thisUpdate: new Date(Date.now() + DAY), nextUpdate: new Date(Date.now() + 8 * DAY) });
    assert.deepEqual(only(run([leaf, inter], root, [crl])), [['REVOCATION_UNKNOWN', 'warning']]);
  });

  it('revocation: a CRL without CRLNumber, or with it critical, is not used (RFC 5280 section 5.2.3)', async () => {
    for (const crlNumber of ['missing', 'critical'] as const) {
      const crl = await makeCrl(inter, { revoked: [{ cert: leaf }], crlNumber });
      const j = run([leaf, inter], root, [crl]);
      assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']], crlNumber);
      assert.match(j.problems[0]!.message, /CRLNumber/);
    }
  });

  it('revocation: a CRL in the issuer\'s name signed by another key is not used', async () => {
    const forger = await makeCa({ name: 'forger' });
    const crl = await makeCrl(inter, { revoked: [{ cert: leaf }], signer: forger });
    const j = run([leaf, inter], root, [crl]);
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.match(j.problems[0]!.message, /signature does not verify/);
  });

  it('revocation: a CRL from an issuer whose keyUsage lacks cRLSign is not used', async () => {
    const noCrlSign = await makeCa({ issuer: root, name: 'no crlsign', keyUsage: x509.KeyUsageFlags.keyCertSign });
    const l = await makeLeaf(noCrlSign);
    const crl = await makeCrl(noCrlSign, { revoked: [{ cert: l }] });
    const j = run([l, noCrlSign], root, [crl]);
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.match(j.problems[0]!.message, /cRLSign/);
  });

  it('revocation: a CRL of another issuer listing the same serial does not apply', async () => {
    const otherCa = await makeCa({ name: 'unrelated ca' });
    const crl = await makeCrl(otherCa, { revoked: [{ cert: leaf }] });
    // Nothing given covers the chain: its status is undetermined, never revoked.
    const j = run([leaf, inter], root, [crl]);
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.match(j.problems[0]!.message, /none of the CRLs given is from "crl inter" and covers it/);
  });

  it('revocation: a certificate no given CRL covers is REVOCATION_UNKNOWN (RFC 5280 6.3.3), critical under hard-fail', async () => {
    // The intermediate has its root's CRL, the leaf none.
    const j = run([leaf, inter], root, [rootCrl], { revocationPolicy: 'hard-fail' });
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'critical']]);
    assert.match(j.problems[0]!.message, /server certificate "localhost" is unknown: none of the CRLs given/);
    // An issuingDistributionPoint for CA certificates only does not cover the leaf.
    const onlyCa = new x509.Extension('2.5.29.28', true, new Uint8Array([0x30, 0x03, 0x82, 0x01, 0xff]));
    assert.deepEqual(only(run([leaf, inter], root, [await makeCrl(inter, { extensions: [onlyCa] }), rootCrl])), [['REVOCATION_UNKNOWN', 'warning']]);
    // A CRL whose issuingDistributionPoint also names a DNS name (which locates nothing) is not
    // used, even for a leaf whose distribution point URI it lists.
    const url = tlv(0x86, Buffer.from('http://crl.example/inter.crl'));
    const withCdp = await makeLeaf(inter, { extensions: [new x509.Extension('2.5.29.31', false, tlv(0x30, tlv(0x30, tlv(0xa0, tlv(0xa0, url)))))] });
    const idp = (...names: Uint8Array[]): x509.Extension => new x509.Extension('2.5.29.28', true, tlv(0x30, tlv(0xa0, tlv(0xa0, ...names))));
    assert.deepEqual(run([withCdp, inter], root, [await makeCrl(inter, { extensions: [idp(url)] }), rootCrl]).problems, []);
    const byDns = run([withCdp, inter], root, [await makeCrl(inter, { extensions: [idp(url, tlv(0x82, Buffer.from('crl.example')))] }), rootCrl]);
    assert.deepEqual(only(byDns), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.match(byDns.problems[0]!.message, /neither a URI nor a directory name/);
    // With the leaf's CRL as well, everything is covered.
    assert.deepEqual(run([leaf, inter], root, [rootCrl, await makeCrl(inter)], { revocationPolicy: 'hard-fail' }).problems, []);
  });

  it('revocation: an unknown CRL extension is ignored unless critical, whatever its value holds', async () => {
    const unknown = (critical: boolean): x509.Extension => new x509.Extension('1.3.6.1.4.1.55738.666.1', critical, new Uint8Array(0));
    assert.deepEqual(run([leaf, inter], root, [await makeCrl(inter, { extensions: [unknown(false)] }), rootCrl]).problems, []);
    const j = run([leaf, inter], root, [await makeCrl(inter, { extensions: [unknown(true)] }), rootCrl]);
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.match(j.problems[0]!.message, /critical extension certwatch does not know/);
  });

  it('revocation: garbage given as a CRL is REVOCATION_UNKNOWN, and truncations of a real CRL never throw', async () => {
    const j = run([leaf, inter], root, [Buffer.from('not a crl')]);
    assert.deepEqual(only(j), [['REVOCATION_UNKNOWN', 'warning']]);
    assert.match(j.problems[0]!.message, /CRL 1 given cannot be read/);
    const crl = await makeCrl(inter, { revoked: [{ cert: leaf }] });
    for (let n = 0; n < crl.length; n++) {
      const cut = crl.subarray(0, n);
      assert.equal(typeof parseCrl(cut), 'string', `a CRL cut at ${n} bytes must be refused`);
      const flipped = Buffer.from(crl);
      flipped[n] = flipped[n]! ^ 0xff;
      const r = run([leaf, inter], root, [flipped]);
      assert.ok(!r.problems.some((p) => p.code === 'REVOKED'), `a CRL corrupted at byte ${n} must not revoke`);
    }
  });
});
