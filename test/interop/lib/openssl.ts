// The independent witness: what `openssl s_client -showcerts` sees on an endpoint.
import { X509Certificate } from 'node:crypto';
import type { Endpoint } from './context.ts';
import { run } from './run.ts';

/** Leaf facts and chain length as openssl reports them. */
export interface Witness {
  count: number;
  notAfter: Date;
  fingerprint256: string;
}

const pemRe = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export async function sClient(e: Endpoint, servername: string): Promise<Witness> {
  const args = ['s_client', '-connect', `127.0.0.1:${e.port}`, '-servername', servername, '-showcerts'];
  // SECLEVEL=0: the weak scenario's RSA-1024/SHA-1 leaf must still be shown, not refused.
  args.push('-cipher', 'DEFAULT:@SECLEVEL=0');
  if (e.starttls) args.push('-starttls', e.starttls);
  args.push(...(e.sclientArgs ?? []));
  const r = await run('openssl', args, 20_000);
  const pems = r.stdout.match(pemRe) ?? [];
  const first = pems[0];
  if (!first) throw new Error(`openssl s_client ${args.slice(1).join(' ')} got no certificate (exit ${r.code})\n${r.stderr.slice(-2000)}`);
  const leaf = new X509Certificate(first);
  return { count: pems.length, notAfter: new Date(leaf.validTo), fingerprint256: normalizeFingerprint(leaf.fingerprint256) };
}

/** Hex digits only, lower case: "AB:CD" and "abcd" compare equal. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/[^0-9a-f]/gi, '').toLowerCase();
}
