// Host facts the server modules need: system users and versioned install paths.
import { chownSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** uid and gid of a system user (created by its Debian package). */
export function user(name: string): { uid: number; gid: number } {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  throw new Error(`system user ${name} does not exist (is its package installed?)`);
}

/** The newest versioned directory under a base, e.g. /usr/lib/postgresql/15. */
export function newestVersionDir(base: string): string {
  const versions = readdirSync(base).filter((d) => /^\d+(\.\d+)*$/.test(d));
  versions.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const v = versions.at(-1);
  if (!v) throw new Error(`no versioned directory under ${base}`);
  return join(base, v);
}

/** chown -R. */
export function chownTree(path: string, owner: { uid: number; gid: number }): void {
  chownSync(path, owner.uid, owner.gid);
  for (const e of readdirSync(path, { withFileTypes: true })) {
    const p = join(path, e.name);
    if (e.isDirectory()) chownTree(p, owner);
    else chownSync(p, owner.uid, owner.gid);
  }
}
