import { Cert } from './info.ts';

/**
 * Parsed certificates by DER, least recently used evicted. A monitor sees the same chains
 * on every round (and on every address of a host): parsing and signature checks are then
 * paid once per certificate, not once per probe.
 */
export class CertCache {
  private readonly entries = new Map<string, Cert>();
  private readonly capacity: number;

  constructor(capacity = 1024) {
    this.capacity = capacity;
  }

  /** The parsed certificate for `der`; throws when it is not a certificate. */
  get(der: Buffer): Cert {
    const key = der.toString('latin1');
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
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
