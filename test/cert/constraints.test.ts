import 'reflect-metadata';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as x509 from '@peculiar/x509';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { Judgement, JudgeInput, ProblemCode } from '../../src/cert/types.ts';
import { makeCa, makeLeaf, type Issued } from '../helpers/pki.ts';

const DAY = 86_400_000;
const clientAuth = '1.3.6.1.5.5.7.3.2';

function run(chain: Issued[], root: Issued, over: Partial<JudgeInput> = {}): Judgement {
  return judge({ chain: chain.map((c) => c.der), tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7, ...over }, TrustStore.fromPem(root.certPem));
}

function codes(j: Judgement): ProblemCode[] {
  return j.problems.map((p) => p.code).sort();
}

function message(j: Judgement, code: ProblemCode): string {
  const p = j.problems.find((x) => x.code === code);
  assert.ok(p, `expected ${code} in ${JSON.stringify(j.problems)}`);
  return p.message;
}

describe('name constraints', async () => {
  const root = await makeCa({ name: 'nc root' });
  const dnsCa = await makeCa({ issuer: root, name: 'nc dns', nameConstraints: { permitted: [{ dns: 'example.com' }], excluded: [{ dns: 'bad.example.com' }] } });

  it('rules: a DNS name inside a permitted subtree passes', async () => {
    const leaf = await makeLeaf(dnsCa, { sans: ['www.example.com'] });
    const j = run([leaf, dnsCa], root, { expectedName: 'www.example.com' });
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
  });

  it('rules: a DNS name outside the permitted subtree is NAME_CONSTRAINTS naming both certificates', async () => {
    const leaf = await makeLeaf(dnsCa, { sans: ['www.example.org'] });
    const j = run([leaf, dnsCa], root, { expectedName: 'www.example.org' });
    assert.deepEqual(codes(j), ['NAME_CONSTRAINTS']);
    assert.match(message(j, 'NAME_CONSTRAINTS'), /"nc dns" does not allow server certificate "www\.example\.org"/);
    assert.equal(j.trusted, false);
  });

  it('rules: a DNS name in an excluded subtree is NAME_CONSTRAINTS', async () => {
    const leaf = await makeLeaf(dnsCa, { sans: ['a.bad.example.com'] });
    const j = run([leaf, dnsCa], root, { expectedName: 'a.bad.example.com' });
    assert.deepEqual(codes(j), ['NAME_CONSTRAINTS']);
  });

  it('rules: a wildcard SAN covering an excluded name is NAME_CONSTRAINTS (CVE-2025-61727)', async () => {
    const ca = await makeCa({ issuer: root, name: 'nc wild', nameConstraints: { excluded: [{ dns: 'secret.example.com' }] } });
    const leaf = await makeLeaf(ca, { sans: ['*.example.com'] });
    const j = run([leaf, ca], root, { expectedName: 'www.example.com' });
    assert.deepEqual(codes(j), ['NAME_CONSTRAINTS']);
  });

  it('rules: an IP address outside the permitted range is NAME_CONSTRAINTS, one inside passes', async () => {
    const ca = await makeCa({ issuer: root, name: 'nc ip', nameConstraints: { permitted: [{ ip: '10.0.0.0/8' }] } });
    const inside = await makeLeaf(ca, { sans: ['10.1.2.3'], name: 'inside' });
    const outside = await makeLeaf(ca, { sans: ['192.0.2.1'], name: 'outside' });
    assert.deepEqual(run([inside, ca], root, { expectedName: '10.1.2.3' }).problems, []);
    assert.deepEqual(codes(run([outside, ca], root, { expectedName: '192.0.2.1' })), ['NAME_CONSTRAINTS']);
  });

  it('rules: an e-mail SAN in an excluded mailbox domain is NAME_CONSTRAINTS', async () => {
    const ca = await makeCa({ issuer: root, name: 'nc mail', nameConstraints: { excluded: [{ email: 'evil.example' }] } });
    const ok = await makeLeaf(ca, { sans: ['localhost', 'email:ops@good.example'] });
    const bad = await makeLeaf(ca, { sans: ['localhost', 'email:ops@evil.example'] });
    assert.deepEqual(run([ok, ca], root).problems, []);
    assert.deepEqual(codes(run([bad, ca], root)), ['NAME_CONSTRAINTS']);
  });

  it('rules: a subject outside a permitted directory name is NAME_CONSTRAINTS', async () => {
    const ca = await makeCa({ issuer: root, name: 'nc dn', nameConstraints: { permitted: [{ dn: 'O=certwatch tests' }] } });
    const inside = await makeLeaf(ca, { subject: 'O=certwatch tests,CN=localhost' });
    const outside = await makeLeaf(ca, { subject: 'O=someone else,CN=localhost' });
    assert.deepEqual(run([inside, ca], root).problems, []);
    assert.deepEqual(codes(run([outside, ca], root)), ['NAME_CONSTRAINTS']);
  });
});

describe('CA rules', async () => {
  const root = await makeCa({ name: 'ca rules root' });

  it('rules: a leaf whose extendedKeyUsage lacks serverAuth is WRONG_PURPOSE', async () => {
    const inter = await makeCa({ issuer: root });
    const leaf = await makeLeaf(inter, { eku: [clientAuth] });
    const j = run([leaf, inter], root);
    assert.deepEqual(codes(j), ['WRONG_PURPOSE']);
    assert.match(message(j, 'WRONG_PURPOSE'), /server certificate "localhost" is not for TLS servers/);
  });

  it('rules: an intermediate whose extendedKeyUsage excludes serverAuth is WRONG_PURPOSE', async () => {
    const inter = await makeCa({ issuer: root, name: 'client-only CA', eku: [clientAuth] });
    const j = run([await makeLeaf(inter), inter], root);
    assert.deepEqual(codes(j), ['WRONG_PURPOSE']);
    assert.match(message(j, 'WRONG_PURPOSE'), /"client-only CA" restricts its extendedKeyUsage/);
  });

  it('rules: an intermediate below a root with pathLenConstraint 0 is INVALID_CA', async () => {
    const strictRoot = await makeCa({ name: 'pathlen 0 root', pathLen: 0 });
    const inter = await makeCa({ issuer: strictRoot });
    const j = run([await makeLeaf(inter), inter], strictRoot);
    assert.deepEqual(codes(j), ['INVALID_CA']);
    assert.match(message(j, 'INVALID_CA'), /"pathlen 0 root" allows 0 intermediates below it \(pathLenConstraint\) but the path has 1/);
    // The same root signing the leaf directly is fine: the constraint counts intermediates only.
    assert.deepEqual(run([await makeLeaf(strictRoot)], strictRoot).problems, []);
  });

  it('rules: an intermediate without basicConstraints is INVALID_CA', async () => {
    const inter = await makeCa({ issuer: root, name: 'no bc', basicConstraints: false, keyUsage: null });
    const j = run([await makeLeaf(inter), inter], root);
    assert.deepEqual(codes(j), ['INVALID_CA']);
    assert.match(message(j, 'INVALID_CA'), /"no bc" signs certificates but is not a CA \(no basicConstraints/);
  });

  it('rules: an intermediate whose keyUsage lacks keyCertSign is INVALID_CA', async () => {
    const inter = await makeCa({ issuer: root, name: 'no certsign', keyUsage: x509.KeyUsageFlags.digitalSignature });
    const j = run([await makeLeaf(inter), inter], root);
    assert.ok(codes(j).includes('INVALID_CA'), JSON.stringify(j.problems));
    assert.match(message(j, 'INVALID_CA'), /"no certsign" signs certificates but its keyUsage lacks keyCertSign/);
  });

  it('rules: an unknown critical extension on the leaf or an intermediate is UNKNOWN_CRITICAL_EXTENSION', async () => {
    const odd = new x509.Extension('1.3.6.1.4.1.55555.1', true, new Uint8Array([0x05, 0x00]));
    const inter = await makeCa({ issuer: root });
    const oddLeaf = await makeLeaf(inter, { extensions: [odd] });
    assert.deepEqual(codes(run([oddLeaf, inter], root)), ['UNKNOWN_CRITICAL_EXTENSION']);
    const oddInter = await makeCa({ issuer: root, name: 'odd inter', extensions: [odd] });
    const j = run([await makeLeaf(oddInter), oddInter], root);
    assert.deepEqual(codes(j), ['UNKNOWN_CRITICAL_EXTENSION']);
    assert.match(message(j, 'UNKNOWN_CRITICAL_EXTENSION'), /"odd inter".*1\.3\.6\.1\.4\.1\.55555\.1/);
    // The same extension not critical is ignored.
    const mild = await makeLeaf(inter, { extensions: [new x509.Extension('1.3.6.1.4.1.55555.1', false, new Uint8Array([0x05, 0x00]))] });
    assert.deepEqual(run([mild, inter], root).problems, []);
  });

  it('rules: an expired intermediate and an expired root are CHAIN_EXPIRED', async () => {
    const past = { notBefore: new Date(Date.now() - 400 * DAY), notAfter: new Date(Date.now() - DAY) };
    const oldInter = await makeCa({ issuer: root, name: 'old inter', ...past });
    const j1 = run([await makeLeaf(oldInter), oldInter], root);
    assert.deepEqual(codes(j1), ['CHAIN_EXPIRED']);
    assert.match(message(j1, 'CHAIN_EXPIRED'), /intermediate certificate "old inter" expired on/);
    const oldRoot = await makeCa({ name: 'old root', ...past });
    const j2 = run([await makeLeaf(oldRoot)], oldRoot);
    assert.deepEqual(codes(j2), ['CHAIN_EXPIRED']);
    assert.match(message(j2, 'CHAIN_EXPIRED'), /trusted root "old root" expired on/);
    assert.equal(j2.trusted, false);
  });

  it('rules: the search backtracks from a first candidate issuer that leads nowhere to a cross-certificate that reaches the root', async () => {
    const inter = await makeCa({ issuer: root, name: 'cross inter' });
    const deadRoot = await makeCa({ name: 'dead-end root' });
    // Same name and key as `inter`, issued by an untrusted root the server also sends: sent
    // first, it is the first candidate; its path ends at a self-signed root nobody trusts.
    const deadCross = await makeCa({ issuer: deadRoot, sameAs: inter });
    const leaf = await makeLeaf(inter);
    const j = run([leaf, deadCross, deadRoot, inter], root);
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
    // Without the live cross-certificate the dead end is all there is.
    assert.equal(run([leaf, deadCross, deadRoot], root).trusted, false);
  });
});

describe('host names', async () => {
  const root = await makeCa({ name: 'names root' });

  it('hostname: a wildcard over a public suffix (ICANN or private section) does not match', async () => {
    for (const [san, host] of [['*.co.uk', 'example.co.uk'], ['*.github.io', 'someone.github.io'], ['*.s3.amazonaws.com', 'bucket.s3.amazonaws.com']] as const) {
      const leaf = await makeLeaf(root, { sans: [san], name: 'wild' });
      const j = run([leaf], root, { expectedName: host });
      assert.equal(j.hostnameMatch, false, san);
      assert.match(message(j, 'HOSTNAME_MISMATCH'), /spans a public suffix/);
    }
  });

  it('hostname: a wildcard under a registrable name matches one label', async () => {
    const leaf = await makeLeaf(root, { sans: ['*.example.co.uk'], name: 'example.co.uk wildcard' });
    assert.equal(run([leaf], root, { expectedName: 'www.example.co.uk' }).hostnameMatch, true);
    assert.equal(run([leaf], root, { expectedName: 'a.www.example.co.uk' }).hostnameMatch, false);
  });

  it('rules: under a private CA a host-like commonName missing from the SAN is a CN_NOT_IN_SAN note, with no problem', async () => {
    const leaf = await makeLeaf(root, { sans: ['www.example.com'], name: 'other.example.com' });
    const j = run([leaf], root, { expectedName: 'www.example.com' });
    assert.deepEqual(j.problems, []);
    assert.equal(j.trusted, true);
    assert.deepEqual(j.notes?.map((n) => n.code), ['CN_NOT_IN_SAN']);
    assert.match(j.notes?.[0]?.message ?? '', /"other\.example\.com".*binds only publicly trusted CAs: "names root" is a private one/);
    const free = await makeLeaf(root, { sans: ['www.example.com'], name: 'My web server' });
    const clean = run([free], root, { expectedName: 'www.example.com' });
    assert.deepEqual(clean.problems, []);
    assert.equal(clean.notes, undefined);
  });

  it('rules: under a publicly trusted root a host-like commonName missing from the SAN is a CN_NOT_IN_SAN warning (BR mis-issuance)', async () => {
    const leaf = await makeLeaf(root, { sans: ['www.example.com'], name: 'other.example.com' });
    const pub = TrustStore.fromBundle([root.certPem]);
    const j = judge({ chain: [leaf.der], tlsVersion: 'TLSv1.3', expectedName: 'www.example.com', now: new Date(), warnDays: 30, critDays: 7 }, pub);
    assert.deepEqual(j.problems.map((p) => [p.code, p.severity]), [['CN_NOT_IN_SAN', 'warning']]);
    assert.match(j.problems[0]?.message ?? '', /publicly trusted root "names root".*revoke within 5 days \(BR 4\.9\.1\.1\)/);
    assert.equal(j.trusted, true);
    assert.equal(j.notes, undefined);
  });

  it('rules: under a publicly trusted root a commonName spelling a SAN identity differently is critical; under a private CA a note', async () => {
    const pub = TrustStore.fromBundle([root.certPem]);
    const cases: [string, string, string][] = [
      ['Www.Example.com', 'www.example.com', 'www.example.com'],
      ['0x7f000001', '127.0.0.1', '127.0.0.1'],
      ['127.000.000.001', '127.0.0.1', '127.0.0.1'],
      ['2001:DB8::1', '2001:db8::1', '2001:db8::1'],
      ['2001:db8:0:0:0:0:0:1', '2001:db8::1', '2001:db8::1'],
      ['bücher.example', 'xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ];
    for (const [cn, san, asked] of cases) {
      const leaf = await makeLeaf(root, { sans: [san], name: cn });
      const j = judge({ chain: [leaf.der], tlsVersion: 'TLSv1.3', expectedName: asked, now: new Date(), warnDays: 30, critDays: 7 }, pub);
      assert.deepEqual(j.problems.map((p) => [p.code, p.severity]), [['CN_NOT_IN_SAN', 'critical']], cn);
      assert.match(j.problems[0]?.message ?? '', /another spelling of its subjectAltName entry ".+".*revoke within 5 days/, cn);
      assert.equal(j.trusted, true, cn);
      const priv = run([leaf], root, { expectedName: asked });
      assert.deepEqual(priv.problems, [], cn);
      assert.deepEqual(priv.notes?.map((n) => n.code), ['CN_NOT_IN_SAN'], cn);
    }
    // A name the SAN does not hold, even one that looks related, stays a warning.
    for (const [cn, san] of [['www.example.org', 'www.example.com'], ['127.0.0.2', '127.0.0.1'], ['xn--bcher-kva.example', 'xn--n3h.example']] as const) {
      const leaf = await makeLeaf(root, { sans: [san], name: cn });
      const j = judge({ chain: [leaf.der], tlsVersion: 'TLSv1.3', expectedName: san, now: new Date(), warnDays: 30, critDays: 7 }, pub);
      assert.deepEqual(j.problems.map((p) => [p.code, p.severity]), [['CN_NOT_IN_SAN', 'warning']], cn);
    }
  });

  it('rules: under a publicly trusted root an extendedKeyUsage with a purpose CABF forbids (code signing, e-mail, time stamping, OCSP, precertificate, any) is WRONG_PURPOSE; under a private CA it is accepted', async () => {
    const SA = '1.3.6.1.5.5.7.3.1';
    const CLIENT = '1.3.6.1.5.5.7.3.2';
    const pub = TrustStore.fromBundle([root.certPem]);
    const judgeWith = (chain: Issued[], trust: TrustStore): Judgement =>
      judge({ chain: chain.map((c) => c.der), tlsVersion: 'TLSv1.3', expectedName: 'www.example.com', now: new Date(), warnDays: 30, critDays: 7 }, trust);
    for (const extra of ['1.3.6.1.5.5.7.3.3', '1.3.6.1.5.5.7.3.4', '1.3.6.1.5.5.7.3.8', '1.3.6.1.5.5.7.3.9', '1.3.6.1.4.1.11129.2.4.4']) {
      const leaf = await makeLeaf(root, { sans: ['www.example.com'], eku: [SA, extra] });
      const j = judgeWith([leaf], pub);
      assert.deepEqual(j.problems.map((p) => [p.code, p.severity]), [['WRONG_PURPOSE', 'critical']], extra);
      assert.match(j.problems[0]!.message, /extendedKeyUsage, which CABF 7\.1\.2\.7\.10 forbids beside serverAuth.*revoke within 5 days/);
      assert.deepEqual(judgeWith([leaf], TrustStore.fromPem(root.certPem)).problems, [], `${extra} under a private CA`);
      const inter = await makeCa({ issuer: root, name: `inter ${extra}`, eku: [SA, extra] });
      const below = await makeLeaf(inter, { sans: ['www.example.com'] });
      const k = judgeWith([below, inter], pub);
      assert.deepEqual(k.problems.map((p) => p.code), ['WRONG_PURPOSE'], `intermediate ${extra}`);
      assert.match(k.problems[0]!.message, /intermediate certificate "inter .*CABF 7\.1\.2\.10\.6/);
    }
    const anyInter = await makeCa({ issuer: root, name: 'inter any', eku: [SA, '2.5.29.37.0'] });
    assert.deepEqual(judgeWith([await makeLeaf(anyInter, { sans: ['www.example.com'] }), anyInter], pub).problems.map((p) => p.code), ['WRONG_PURPOSE']);
    // serverAuth with clientAuth is what public CAs issue: nothing to say.
    const both = await makeCa({ issuer: root, name: 'inter both', eku: [SA, CLIENT] });
    assert.deepEqual(judgeWith([await makeLeaf(both, { sans: ['www.example.com'], eku: [SA, CLIENT] }), both], pub).problems, []);
  });

  it('rules: an extra CA is private even beside the bundled roots; a CN copied from the SAN is neither note nor warning', async () => {
    const leaf = await makeLeaf(root, { sans: ['www.example.com'], name: 'other.example.com' });
    const mixed = TrustStore.fromBundle([]).withExtra(root.certPem);
    const j = judge({ chain: [leaf.der], tlsVersion: 'TLSv1.3', expectedName: 'www.example.com', now: new Date(), warnDays: 30, critDays: 7 }, mixed);
    assert.deepEqual(j.problems, []);
    assert.deepEqual(j.notes?.map((n) => n.code), ['CN_NOT_IN_SAN']);
    const copy = await makeLeaf(root, { sans: ['www.example.com'], name: 'www.example.com' });
    const pub = judge({ chain: [copy.der], tlsVersion: 'TLSv1.3', expectedName: 'www.example.com', now: new Date(), warnDays: 30, critDays: 7 }, TrustStore.fromBundle([root.certPem]));
    assert.deepEqual(pub.problems, []);
    assert.equal(pub.notes, undefined);
  });
});
