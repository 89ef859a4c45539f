// The default REPLICA_ID of the embedded store. A replica delivers only the outbox entries in
// its own index segment, so its id must outlive the machine it runs on: a Docker container
// recreated from a new image (an upgrade) gets a new host name, and the alerts still pending
// under the old one would never be sent. With the embedded SQLite store the data directory is
// what persists (the volume), so the id is kept there: written once, from the host name (the
// id this replica has been using, so upgrading changes nothing), and read back on every start.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a replica id may hold (REPLICA_ID's rule, src/config.ts). */
const VALID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The replica id kept in `dataDir`, or `fallback` written there as it when there is none yet.
 * Falls back to `fallback` without writing when the file holds something else (left for the
 * operator to see) or the directory cannot be written (the store reports that directory).
 */
export function stableReplicaId(dataDir: string, fallback: string): { id: string; source: 'kept' | 'created' | 'fallback' } {
  const file = join(dataDir, 'replica-id');
  try {
    const kept = readFileSync(file, 'utf8').trim();
    return VALID.test(kept) ? { id: kept, source: 'kept' } : { id: fallback, source: 'fallback' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return { id: fallback, source: 'fallback' };
  }
  try {
    mkdirSync(dataDir, { recursive: true });
    // 'wx': two processes starting on one directory at once keep the first one's id.
    writeFileSync(file, `${fallback}\n`, { flag: 'wx' });
    return { id: fallback, source: 'created' };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return stableReplicaId(dataDir, fallback);
    return { id: fallback, source: 'fallback' };
  }
}
