// PostgreSQL SSLRequest: one initdb, copied per certificate scenario, one postmaster each
// (ssl_cert_file is per cluster). Runs as the postgres user: postgres refuses root.
import { chmodSync, copyFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, lowSeclevelConf, scenarios, type Ctx, type Endpoint, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';
import { run } from '../lib/run.ts';
import { chownTree, newestVersionDir, user } from '../lib/system.ts';

async function start(ctx: Ctx): Promise<Endpoint[]> {
  const bin = join(newestVersionDir('/usr/lib/postgresql'), 'bin');
  const pg = user('postgres');
  const base = join(ctx.dir, 'postgres');
  const template = join(base, 'template');
  mkdirSync(template, { recursive: true });
  chownTree(base, pg);
  const init = await run('setpriv', ['--reuid', String(pg.uid), '--regid', String(pg.gid), '--clear-groups', join(bin, 'initdb'), '-D', template, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions'], 120_000);
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}${init.stdout}`);

  return Promise.all(
    scenarios.map(async (s): Promise<Endpoint> => {
      const data = join(base, s);
      cpSync(template, data, { recursive: true });
      // Node 24's cpSync creates the top directory with the default mode; postgres wants 0700.
      chmodSync(data, 0o700);
      const f = certFiles(ctx, s);
      // The key must belong to the server's user with mode 0600 or postgres refuses it.
      copyFileSync(f.served, join(data, 'server.crt'));
      copyFileSync(f.key, join(data, 'server.key'));
      chownTree(data, pg);
      const port = await ctx.procs.port();
      const settings = {
        port: String(port),
        listen_addresses: '127.0.0.1',
        unix_socket_directories: data,
        ssl: 'on',
        ssl_cert_file: join(data, 'server.crt'),
        ssl_key_file: join(data, 'server.key'),
        // The weak scenario's RSA-1024/SHA-1 certificate needs OpenSSL security level 0.
        ssl_ciphers: 'DEFAULT:@SECLEVEL=0',
        shared_buffers: '8MB',
        max_connections: '10',
        fsync: 'off',
      };
      const args = ['-D', data, ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
      const p = ctx.procs.spawn({ name: `postgres-${s}`, cmd: join(bin, 'postgres'), args, uid: pg.uid, gid: pg.gid, env: { OPENSSL_CONF: lowSeclevelConf(ctx) } });
      await waitForPorts(p, [port]);
      return { server: 'postgres', scheme: 'postgres', port, scenario: s, starttls: 'postgres' };
    }),
  );
}

export const postgres: ServerModule = { name: 'postgres', start };
