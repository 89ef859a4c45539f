// Just enough DER (X.690) to read what node:crypto's X509Certificate does not expose:
// the certificate's outer signatureAlgorithm (RFC 5280 section 4.1.1.2).

/** A DER element: its tag byte and where its content lies in the buffer. */
interface Tlv {
  tag: number;
  start: number;
  end: number;
}

function readTlv(der: Uint8Array, at: number): Tlv {
  const tag = der[at];
  const first = der[at + 1];
  if (tag === undefined || first === undefined) throw new Error('DER: truncated element');
  let len = first;
  let start = at + 2;
  if (first & 0x80) {
    const n = first & 0x7f;
    // Indefinite lengths are BER-only; certificates never need more than 4 length bytes.
    if (n === 0 || n > 4) throw new Error('DER: unsupported length encoding');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? 0);
    start += n;
  }
  const end = start + len;
  if (end > der.length) throw new Error('DER: element runs past the end');
  return { tag, start, end };
}

function decodeOid(bytes: Uint8Array): string {
  const parts: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (parts.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        parts.push(first, value - first * 40);
      } else {
        parts.push(value);
      }
      value = 0;
    }
  }
  return parts.join('.');
}

/** The dotted OID of Certificate.signatureAlgorithm, or null when the DER is not a certificate. */
export function signatureAlgorithmOid(der: Uint8Array): string | null {
  try {
    const cert = readTlv(der, 0);
    if (cert.tag !== 0x30) return null;
    const tbs = readTlv(der, cert.start);
    const alg = readTlv(der, tbs.end);
    if (alg.tag !== 0x30) return null;
    const oid = readTlv(der, alg.start);
    if (oid.tag !== 0x06) return null;
    return decodeOid(der.subarray(oid.start, oid.end));
  } catch {
    return null;
  }
}
