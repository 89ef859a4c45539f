// Measurement, not a test: pkijs's CertificateChainValidationEngine on the SERVER cases of the
// x509-limbo corpus, for comparison with the judge (docs/judge.md). pkijs checks the chain
// (signatures, dates, basicConstraints, path length, key usage, name constraints, CRLs) but
// not the peer name, so a case naming a peer is scored on the chain alone.
// pkijs has no work budget: each case runs in a child process and one that takes longer than
// 10 s (the pathological name-constraint and path-explosion cases) counts as a hang.
// Usage: node test/limbo/pkijs.ts [--verbose]
import { spawnSync } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import * as pkijs from 'pkijs';
import { serverCases, type LimboCase } from './corpus.ts';
import { pemToDer } from '../../src/cert/trust.ts';


pkijs.setEngine('node', new pkijs.CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));

function toAb(b: Buffer): ArrayBuffer {
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

async function verdict(c: LimboCase): Promise<'accept' | 'reject' | 'crash'> {
  try {
    const certs = (pems: string[]): pkijs.Certificate[] => pems.flatMap((p) => pemToDer(p)).map((d) => pkijs.Certificate.fromBER(toAb(d)));
    const engine = new pkijs.CertificateChainValidationEngine({
      trustedCerts: certs(c.trusted_certs),
      certs: [...certs([c.peer_certificate]), ...certs(c.untrusted_intermediates)],
      crls: c.crls.flatMap((p) => pemToDer(p, 'CRL', 'X509 CRL')).map((d) => pkijs.CertificateRevocationList.fromBER(toAb(d))),
      checkDate: c.validation_time === null ? new Date() : new Date(c.validation_time),
    });
    const r = await engine.verify();
    return r.result ? 'accept' : 'reject';
  } catch (err) {
    // pkijs throws on input it cannot parse: for a hostile certificate that is a refusal, but
    // an exception escaping the validator is what the judge's "crash" column counts.
    return err instanceof Error && /parse|ASN|BER|decod/i.test(err.message) ? 'reject' : 'crash';
  }
}

const cases = serverCases();
const one = process.argv.indexOf('--case');
if (one !== -1) {
  process.stdout.write(await verdict(cases[Number(process.argv[one + 1])]!));
} else {
  const verbose = process.argv.includes('--verbose');
  const t = { agree: 0, falseAccepts: 0, falseRejects: 0, crashes: 0, hangs: 0 };
  const started = performance.now();
  cases.forEach((c, i) => {
    const r = spawnSync(process.execPath, [new URL(import.meta.url).pathname, '--case', String(i)], { encoding: 'utf8', timeout: 10_000 });
    const v = r.error !== undefined || r.signal !== null ? 'hang' : r.stdout.trim();
    const ok = (v === 'accept' || v === 'reject') && (v === 'accept') === (c.expected_result === 'SUCCESS');
    if (v === 'hang') t.hangs++;
    else if (v !== 'accept' && v !== 'reject') t.crashes++;
    else if (ok) t.agree++;
    else if (v === 'accept') t.falseAccepts++;
    else t.falseRejects++;
    if (verbose && !ok) console.log(`MISS ${c.id} expected ${c.expected_result}, pkijs ${v}`);
  });
  console.log(`| pkijs CertificateChainValidationEngine | ${t.agree} / ${cases.length} | ${t.falseAccepts} | ${t.falseRejects} | ${t.crashes} crashes, ${t.hangs} hangs over 10 s | (${Math.round((performance.now() - started) / 1000)} s)`);
}
