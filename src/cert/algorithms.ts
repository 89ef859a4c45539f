import type { KeyObject } from 'node:crypto';

import type { PssParams } from './der.ts';

/** A signature algorithm: its OpenSSL name, the digest it signs with, and why clients refuse its parameters (null when they do not). */
interface SignatureAlgorithm {
  name: string;
  hash: string | null;
  unsupported: string | null;
}

// OpenSSL's names for the signature algorithms seen on the public internet (RFC 3279,
// RFC 4055, RFC 5758, RFC 8410). RSASSA-PSS carries its digest in its parameters (pssDigests).
const signatureAlgorithms: Record<string, Omit<SignatureAlgorithm, 'unsupported'>> = {
  '1.2.840.113549.1.1.2': { name: 'md2WithRSAEncryption', hash: 'MD2' },
  '1.2.840.113549.1.1.3': { name: 'md4WithRSAEncryption', hash: 'MD4' },
  '1.2.840.113549.1.1.4': { name: 'md5WithRSAEncryption', hash: 'MD5' },
  '1.2.840.113549.1.1.5': { name: 'sha1WithRSAEncryption', hash: 'SHA-1' },
  '1.2.840.113549.1.1.10': { name: 'rsassaPss', hash: null },
  '1.2.840.113549.1.1.11': { name: 'sha256WithRSAEncryption', hash: 'SHA-256' },
  '1.2.840.113549.1.1.12': { name: 'sha384WithRSAEncryption', hash: 'SHA-384' },
  '1.2.840.113549.1.1.13': { name: 'sha512WithRSAEncryption', hash: 'SHA-512' },
  '1.2.840.113549.1.1.14': { name: 'sha224WithRSAEncryption', hash: 'SHA-224' },
  '1.2.840.10045.4.1': { name: 'ecdsa-with-SHA1', hash: 'SHA-1' },
  '1.2.840.10045.4.3.1': { name: 'ecdsa-with-SHA224', hash: 'SHA-224' },
  '1.2.840.10045.4.3.2': { name: 'ecdsa-with-SHA256', hash: 'SHA-256' },
  '1.2.840.10045.4.3.3': { name: 'ecdsa-with-SHA384', hash: 'SHA-384' },
  '1.2.840.10045.4.3.4': { name: 'ecdsa-with-SHA512', hash: 'SHA-512' },
  '1.2.840.10040.4.3': { name: 'dsaWithSHA1', hash: 'SHA-1' },
  '2.16.840.1.101.3.4.3.2': { name: 'dsa_with_SHA256', hash: 'SHA-256' },
  '1.3.101.112': { name: 'ED25519', hash: null },
  '1.3.101.113': { name: 'ED448', hash: null },
};

/** hashAlgorithm OIDs of RSASSA-PSS parameters (RFC 4055 section 2.1). */
const pssDigests: Record<string, string> = {
  '1.2.840.113549.2.5': 'MD5',
  '1.3.14.3.2.26': 'SHA-1',
  '2.16.840.1.101.3.4.2.4': 'SHA-224',
  '2.16.840.1.101.3.4.2.1': 'SHA-256',
  '2.16.840.1.101.3.4.2.2': 'SHA-384',
  '2.16.840.1.101.3.4.2.3': 'SHA-512',
};

/**
 * Names and digest of a signature algorithm OID (the OID itself when unknown). For RSASSA-PSS
 * the digest is that of `pss`, its parameters: a PSS signature over SHA-1 is as broken as
 * sha1WithRSAEncryption (WEAK_SIGNATURE; OpenSSL 3 refuses SHA-1 at its default security level).
 */
export function signatureAlgorithm(oid: string | null, pss: PssParams | null = null): SignatureAlgorithm {
  if (oid === null) return { name: 'unknown', hash: null, unsupported: null };
  const known = signatureAlgorithms[oid] ?? { name: oid, hash: null };
  if (oid !== pssOid) return { ...known, unsupported: null };
  const hash = pss === null ? null : (pssDigests[pss.hash] ?? null);
  return { name: known.name, hash, unsupported: pssRejection(pss, hash) };
}

const pssOid = '1.2.840.113549.1.1.10';
const pssSaltBytes: Record<string, number> = { 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };

/**
 * What makes RSASSA-PSS parameters other than the three sets webpki, Chrome and Go accept
 * (hash SHA-256, -384 or -512 with NULL or absent parameters, MGF1 over the same hash, a salt
 * as long as the digest, trailerField 1): they refuse anything else as an unsupported
 * signature algorithm. Null for the standard sets, and for SHA-1 and MD5, which WEAK_SIGNATURE
 * reports instead.
 */
function pssRejection(pss: PssParams | null, hash: string | null): string | null {
  if (pss === null) return 'RSASSA-PSS with missing or unreadable parameters';
  if (isWeakHash(hash)) return null;
  const bytes = hash === null ? undefined : pssSaltBytes[hash];
  if (bytes === undefined) return `RSASSA-PSS over ${hash ?? pss.hash}`;
  if (!pss.hashParamsNull) return `RSASSA-PSS whose ${hash} identifier has parameters other than NULL`;
  if (pss.mgf !== mgf1 || pss.mgfHash !== pss.hash || !pss.mgfHashParamsNull) return `RSASSA-PSS over ${hash} with a mask generation other than MGF1 over ${hash}`;
  if (pss.salt !== bytes) return `RSASSA-PSS over ${hash} with a ${pss.salt ?? 'huge'}-byte salt (${bytes} bytes expected)`;
  if (pss.trailer !== 1) return `RSASSA-PSS over ${hash} with trailerField ${pss.trailer ?? 'huge'} (only 1 is defined)`;
  return null;
}

const mgf1 = '1.2.840.113549.1.1.8';

/** Digests with practical collisions (SHAttered 2017 for SHA-1; MD5 since 2004). */
export function isWeakHash(hash: string | null): boolean {
  return hash === 'SHA-1' || hash === 'MD5' || hash === 'MD4' || hash === 'MD2';
}

const keyTypeNames: Record<string, string> = {
  rsa: 'RSA',
  'rsa-pss': 'RSA-PSS',
  ec: 'EC',
  dsa: 'DSA',
  ed25519: 'Ed25519',
  ed448: 'Ed448',
  x25519: 'X25519',
  x448: 'X448',
  'ml-dsa-44': 'ML-DSA-44',
  'ml-dsa-65': 'ML-DSA-65',
  'ml-dsa-87': 'ML-DSA-87',
};

const curveBits: Record<string, number> = {
  prime192v1: 192,
  secp224r1: 224,
  prime256v1: 256,
  secp256k1: 256,
  secp384r1: 384,
  secp521r1: 521,
};

/** Key type as people write it ('RSA', 'EC', 'Ed25519') and its size in bits. */
export function describeKey(key: KeyObject): { keyType: string; keyBits: number } {
  const type = key.asymmetricKeyType ?? 'unknown';
  const details = key.asymmetricKeyDetails ?? {};
  const keyType = keyTypeNames[type] ?? type;
  if (details.modulusLength !== undefined) return { keyType, keyBits: details.modulusLength };
  if (details.namedCurve !== undefined) {
    const digits = /(\d{3})/.exec(details.namedCurve);
    return { keyType, keyBits: curveBits[details.namedCurve] ?? Number(digits?.[1] ?? 0) };
  }
  if (type === 'ed25519' || type === 'x25519') return { keyType, keyBits: 256 };
  if (type === 'ed448' || type === 'x448') return { keyType, keyBits: 448 };
  return { keyType, keyBits: 0 };
}

/** Why a key is too weak, or null: RSA/DSA below 2048 bits, EC below 256 (NIST SP 800-131A). */
export function keyWeakness(keyType: string, keyBits: number): string | null {
  if ((keyType === 'RSA' || keyType === 'RSA-PSS' || keyType === 'DSA') && keyBits < 2048) {
    return `a ${keyBits}-bit ${keyType} key (below 2048)`;
  }
  if (keyType === 'EC' && keyBits < 256) return `a ${keyBits}-bit EC key (below 256)`;
  return null;
}

/** What a certificate's key looks like to the checks below (a subset of Cert, to keep this module leaf-level). */
interface KeyedCert {
  key: { keyType: string; keyBits: number };
  parsed: { spkiAlgorithm: string; namedCurve: boolean };
  publicKey: KeyObject | null;
}

const acceptedCurves = new Set(['prime256v1', 'secp384r1', 'secp521r1']);

/**
 * Why a TLS client refuses this key, or null. The keys webpki and the CABF profile (6.1.5,
 * 7.1.3.1) allow: RSA of at least 2048 bits in whole bytes, ECDSA on P-256, P-384 or P-521
 * given as a named curve, Ed25519. DSA and other curves are refused even when large.
 */
export function keyRejection(c: KeyedCert): string | null {
  const { keyType, keyBits } = c.key;
  if (!c.parsed.namedCurve) return 'an EC key with explicit curve parameters (CABF 7.1.3.1.2 requires a named curve)';
  if (c.publicKey === null) return `a public key node:crypto cannot read (${c.parsed.spkiAlgorithm || 'unknown algorithm'})`;
  const weak = keyWeakness(keyType, keyBits);
  if (weak !== null) return weak;
  if (keyType === 'DSA') return `a ${keyBits}-bit DSA key (TLS clients accept RSA, ECDSA and Ed25519 keys only)`;
  if ((keyType === 'RSA' || keyType === 'RSA-PSS') && keyBits % 8 !== 0) return `a ${keyBits}-bit RSA key (not a whole number of bytes, CABF 6.1.5)`;
  if (keyType === 'EC') {
    const curve = c.publicKey.asymmetricKeyDetails?.namedCurve ?? '';
    if (!acceptedCurves.has(curve)) return `an EC key on ${curve || 'an unknown curve'} (TLS clients accept P-256, P-384 and P-521)`;
  }
  return null;
}
