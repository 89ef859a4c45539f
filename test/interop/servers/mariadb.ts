// MariaDB: TLS negotiated in the client handshake (CLIENT_SSL, then the SSL request packet),
// valid certificate. mariadb-install-db builds a data directory under the run directory;
// --no-defaults keeps /etc/mysql out of it.
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, lowSeclevelConf, type Ctx, type Endpoint, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';
import { run } from '../lib/run.ts';
import { chownTree, user } from '../lib/system.ts';

async function start(ctx: Ctx): Promise<Endpoint[]> {
  const dir = join(ctx.dir, 'mariadb');
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  // mariadbd drops to the mysql user before it reads its key: give it copies it may read.
  const f = certFiles(ctx, 'valid');
  copyFileSync(f.served, join(dir, 'server.crt'));
  copyFileSync(f.key, join(dir, 'server.key'));
  chownTree(dir, user('mysql'));
  const init = await run(
    '/usr/bin/mariadb-install-db',
    ['--no-defaults', `--datadir=${data}`, '--user=mysql', '--auth-root-authentication-method=normal', '--skip-test-db'],
    120_000,
  );
  if (init.code !== 0) throw new Error(`mariadb-install-db failed: ${init.stdout}${init.stderr}`);
  const port = await ctx.procs.port();
  const p = ctx.procs.spawn({
    name: 'mariadb',
    cmd: '/usr/sbin/mariadbd',
    args: [
      '--no-defaults',
      `--datadir=${data}`,
      '--user=mysql',
      '--bind-address=127.0.0.1',
      `--port=${port}`,
      `--socket=${dir}/mysqld.sock`,
      `--pid-file=${dir}/mysqld.pid`,
      `--ssl-cert=${dir}/server.crt`,
      `--ssl-key=${dir}/server.key`,
      '--innodb-buffer-pool-size=16M',
      '--skip-log-bin',
    ],
    env: { OPENSSL_CONF: lowSeclevelConf(ctx) },
  });
  await waitForPorts(p, [port]);
  return [{ server: 'mariadb', scheme: 'mysql', port, scenario: 'valid', starttls: 'mysql' }];
}

export const mariadb: ServerModule = { name: 'mariadb', start };
