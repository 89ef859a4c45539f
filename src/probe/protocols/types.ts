import type { DialectIO } from '../reader.ts';

/**
 * Speaks a protocol over plaintext up to the TLS upgrade. Resolves once the server has
 * agreed to start TLS (its exact go-ahead was read); throws a ProbeError otherwise.
 * The caller refuses any bytes left unread after it resolves.
 */
export type Dialect = (io: DialectIO) => Promise<void>;

export type Mode = 'implicit' | 'starttls';

/** One protocol: its STARTTLS-style dialect (null when it only exists over implicit TLS). */
export interface ProtocolSpec {
  dialect: Dialect | null;
  summary: string;
}
