// The assertions for one endpoint: certwatch's verdict against the scenario, and its facts
// against openssl's.
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { CheckResult } from './certwatch.ts';
import { certFiles, expectedChainLength, expectedProblems, expectedTrusted, toleratedProblems, type Ctx, type Endpoint } from './context.ts';
import { normalizeFingerprint, type Witness } from './openssl.ts';

/** Everything wrong with one endpoint's result; empty means it passed. */
export function judgeEndpoint(ctx: Ctx, e: Endpoint, r: CheckResult | undefined, w: Witness | Error): string[] {
  const failures: string[] = [];
  if (e.expectError) return judgeNoTls(e.expectError, r, w);
  if (w instanceof Error) failures.push(`openssl: ${w.message}`);
  if (!r) return [...failures, 'certwatch printed no result for this endpoint'];
  if (r.error) failures.push(`certwatch error ${r.error.code}: ${r.error.message}`);

  const want = expectedProblems[e.scenario];
  const codes = r.problems.map((p) => p.code);
  const tolerated = toleratedProblems[e.scenario] ?? [];
  for (const c of want) if (!codes.includes(c)) failures.push(`missing problem ${c} (got [${codes.join(', ')}])`);
  for (const c of codes) if (!want.includes(c) && !tolerated.includes(c)) failures.push(`unexpected problem ${c}`);
  const wantOk = want.length === 0;
  if (wantOk !== (r.status === 'ok')) failures.push(`status ${r.status}, expected ${wantOk ? 'ok' : 'warning or critical'}`);
  const trusted = expectedTrusted[e.scenario];
  if (trusted !== undefined && r.trusted !== trusted) failures.push(`trusted ${String(r.trusted)}, expected ${trusted}`);
  // certs.sh issues well-formed leaves (CN copied from the SAN, no client certificate asked): no notes.
  for (const n of r.notes ?? []) failures.push(`unexpected note ${n.code}: ${n.message}`);

  const cert = r.certificate;
  if (!cert) return [...failures, 'no certificate in the result'];
  const intended = new X509Certificate(readFileSync(certFiles(ctx, e.scenario).leaf));
  const fp = normalizeFingerprint(cert.fingerprint256);
  if (fp !== normalizeFingerprint(intended.fingerprint256)) failures.push(`leaf is not the ${e.scenario} certificate (fingerprint ${fp})`);
  const chainWant = e.chainLength?.count ?? expectedChainLength[e.scenario];
  if (r.chain.length !== chainWant) failures.push(`chain of ${r.chain.length} certificates, expected ${chainWant}`);
  if (!(w instanceof Error)) {
    if (fp !== w.fingerprint256) failures.push(`fingerprint ${fp} != openssl ${w.fingerprint256}`);
    if (new Date(cert.notAfter).getTime() !== w.notAfter.getTime())
      failures.push(`notAfter ${cert.notAfter} != openssl ${w.notAfter.toISOString()}`);
    if (r.chain.length !== w.count) failures.push(`${r.chain.length} certificates sent, openssl saw ${w.count}`);
  }
  return failures;
}

/** An endpoint that offers no TLS: certwatch reports the finding, openssl gets no certificate. */
function judgeNoTls(code: string, r: CheckResult | undefined, w: Witness | Error): string[] {
  const failures: string[] = [];
  if (!(w instanceof Error)) failures.push(`openssl got a certificate (${w.fingerprint256}) where none was offered`);
  if (!r) return [...failures, 'certwatch printed no result for this endpoint'];
  if (r.error?.code !== code) failures.push(`error ${r.error?.code ?? 'none'}, expected ${code}`);
  if (r.status !== 'critical') failures.push(`status ${r.status}, expected critical`);
  if (!r.problems.some((p) => p.code === code)) failures.push(`problem ${code} missing`);
  if (r.certificate) failures.push('a certificate was reported');
  return failures;
}
