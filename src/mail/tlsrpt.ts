// TLS-RPT (RFC 8460 section 3): the `_smtp._tls` TXT record.

/** The outcome of reading the TLS-RPT record; `unavailable` when its lookup failed (SERVFAIL, timeout). */
export type TlsRpt = { state: 'none' } | { state: 'unavailable' } | { state: 'valid'; rua: string[] } | { state: 'invalid'; error: string };

/** Parses the `_smtp._tls` TXT records: exactly one `v=TLSRPTv1;` record with an `rua=` of mailto: or https: URIs. */
export function parseTlsRpt(txts: readonly string[]): TlsRpt {
  const recs = txts.filter((t) => /^v=TLSRPTv1\s*;/.test(t) || t === 'v=TLSRPTv1');
  if (recs.length === 0) {
    const odd = txts.find((t) => /^v=TLSRPT/i.test(t));
    return odd === undefined ? { state: 'none' } : { state: 'invalid', error: `unknown version in "${clip(odd)}"` };
  }
  if (recs.length > 1) return { state: 'invalid', error: `${recs.length} v=TLSRPTv1 records; exactly one is allowed` };
  const rec = recs[0]!;
  const rua = /(?:^|;)\s*rua\s*=\s*([^;]*)/.exec(rec)?.[1]?.trim();
  if (rua === undefined || rua === '') return { state: 'invalid', error: `no rua= in "${clip(rec)}"` };
  const uris = rua.split(',').map((u) => u.trim());
  const bad = uris.find((u) => !/^(mailto:[^\s@]+@[^\s@]+|https:\/\/[^\s]+)$/i.test(u));
  if (bad !== undefined) return { state: 'invalid', error: `rua entry "${clip(bad)}" is neither mailto: nor https:` };
  return { state: 'valid', rua: uris };
}

function clip(s: string, max = 80): string {
  const safe = s.replace(/[\x00-\x1f\x7f]/g, '?');
  return safe.length > max ? `${safe.slice(0, max)}…` : safe;
}
