import { Cert } from './info.ts';

/** Bytes at the end of a DER (inside the signature) that key the index; the whole DER is compared on a hit. */
const TAIL = 32;

/**
 * Parsed certificates by DER, least recently used evicted. A monitor sees the same chains
 * on every round (and on every address of a host): parsing and signature checks are then
 * paid once per certificate, not once per probe.
 *
 * The index key is the length and the last 32 bytes (signature bytes, different for every
 * certificate a CA signs) rather than the whole DER as a string: building and hashing a
 * 1-2 KB string per certificate was a quarter of judge()'s CPU. A hit is confirmed by
 * comparing the whole DER, so two certificates that share a key (a crafted collision) only
 * evict each other; neither is ever taken for the other.
 */
export class CertCache {
  private readonly entries = new Map<string, Cert>();
  private readonly capacity: number;

  constructor(capacity = 1024) {
    this.capacity = capacity;
  }

  /** The parsed certificate for `der`; throws when it is not a certificate. */
  get(der: Buffer): Cert {
    const key = `${der.length}:${der.toString('latin1', Math.max(0, der.length - TAIL))}`;
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      if (hit.der.equals(der)) {
        this.entries.set(key, hit);
        return hit;
      }
    }
    const cert = new Cert(Buffer.from(der));
    this.entries.set(key, cert);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    return cert;
  }

  get size(): number {
    return this.entries.size;
  }
}
