import { createHash } from 'node:crypto';

/**
 * The idempotency key of a decided message: a hash of the target id and the policy's event
 * (which names the certificate fingerprint and threshold, or the problem episode). The same
 * decision made twice (a run repeated after a crash) maps to the same key and is enqueued once.
 */
export function outboxKey(targetId: string, event: string): string {
  return createHash('sha256').update(`${targetId}\n${event}`).digest('hex').slice(0, 40);
}
