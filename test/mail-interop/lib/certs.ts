// Certificates of the mail suite: the interop PKI (test/interop/certs.sh), with the "valid"
// leaf re-issued by the same intermediate so that it is also valid for *.<zone> of every test
// zone (MX names, mta-sts hosts); and the SPKI digests the TLSA records publish.
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Re-issues certs/valid/leaf.pem with the interop names plus `*.<zone>` for each zone. */
export function reissueValidLeaf(certs: string, zoneNames: readonly string[]): void {
  const san = ['DNS:localhost', 'DNS:interop.test', 'IP:127.0.0.1', ...zoneNames.map((z) => `DNS:*.${z}`)].join(',');
  const leaf = join(certs, 'valid', 'leaf.pem');
  // ca.cnf names its database relative to the certs directory (`dir = ca`). The subject is
  // CN=localhost, a copy of a SAN: certs.sh's CN=valid.interop is in no SAN, which the judge
  // reports as MALFORMED_CERTIFICATE (CABF 7.1.4.3).
  try {
    execFileSync('openssl', ['ca', '-batch', '-config', 'ca.cnf', '-extensions', 'leaf', '-notext', '-md', 'sha256', '-cert', 'intermediate.pem', '-keyfile', 'intermediate.key', '-days', '200', '-subj', '/CN=localhost', '-in', join('valid', 'req.csr'), '-out', leaf], {
      cwd: certs,
      env: { ...process.env, OPENSSL_CONF: '/dev/null', SAN: san, KU: 'digitalSignature,keyEncipherment' },
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 30_000,
    });
  } catch (err) {
    throw new Error(`openssl ca (valid leaf for the mail zones) failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`);
  }
  const served = readFileSync(leaf, 'utf8') + readFileSync(join(certs, 'intermediate.pem'), 'utf8');
  writeFileSync(join(certs, 'valid', 'served.pem'), served);
  writeFileSync(join(certs, 'valid', 'combined.pem'), readFileSync(join(certs, 'valid', 'key.pem'), 'utf8') + served, { mode: 0o600 });
}

/** Hex SHA-256 of a certificate's SubjectPublicKeyInfo (TLSA selector 1, matching type 1). */
export function spkiSha256(pemFile: string): string {
  const der = new X509Certificate(readFileSync(pemFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex');
}
