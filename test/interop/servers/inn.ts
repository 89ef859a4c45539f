// INN's nnrpd as a standalone reader daemon (-D -f, no innd): NNTP STARTTLS (RFC 4642) and
// NNTPS (-S), valid certificate. Everything INN reads comes from an inn.conf under the run
// directory (INNCONF), copied from the package's and pointed at our own etc, run and
// overview directories.
import { copyFileSync, cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, lowSeclevelConf, type Ctx, type Endpoint, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';
import { run } from '../lib/run.ts';
import { chownTree, user } from '../lib/system.ts';

const bin = '/usr/lib/news/bin';

async function start(ctx: Ctx): Promise<Endpoint[]> {
  const dir = join(ctx.dir, 'inn');
  const etc = join(dir, 'etc');
  for (const d of ['run', 'log', 'overview']) mkdirSync(join(dir, d), { recursive: true });
  cpSync('/etc/news', etc, { recursive: true });
  const f = certFiles(ctx, 'valid');
  copyFileSync(f.served, join(dir, 'server.crt'));
  copyFileSync(f.key, join(dir, 'server.key'));
  const ours: Record<string, string> = {
    pathetc: etc,
    pathrun: join(dir, 'run'),
    pathlog: join(dir, 'log'),
    pathoverview: join(dir, 'overview'),
    tlscertfile: join(dir, 'server.crt'),
    tlskeyfile: join(dir, 'server.key'),
    // INN refuses a host name without a domain (innconfval: "hostname does not resolve").
    domain: 'interop.test',
  };
  const base = readFileSync('/etc/news/inn.conf', 'utf8')
    .split('\n')
    .filter((l) => !Object.keys(ours).some((k) => l.startsWith(`${k}:`)));
  writeFileSync(join(etc, 'inn.conf'), [...base, ...Object.entries(ours).map(([k, v]) => `${k}: ${v}`), ''].join('\n'));
  const news = user('news');
  chownTree(dir, news);
  const env = { INNCONF: join(etc, 'inn.conf'), OPENSSL_CONF: lowSeclevelConf(ctx) };
  const asNews = ['--reuid', String(news.uid), '--regid', String(news.gid), '--clear-groups'];

  // nnrpd answers "400 NNTP server unavailable" when it cannot open the overview read-only;
  // tdx-util -F creates the tradindexed group index for the groups in the active file.
  const ov = await run('setpriv', [...asNews, `${bin}/tdx-util`, '-F'], 60_000, { ...process.env, ...env });
  if (ov.code !== 0) throw new Error(`tdx-util -F failed: ${ov.stderr}`);

  const nntp = await ctx.procs.port();
  const nntps = await ctx.procs.port();
  const daemon = (name: string, port: number, extra: string[]) =>
    ctx.procs.spawn({ name, cmd: `${bin}/nnrpd`, args: ['-D', '-f', '-b', '127.0.0.1', '-p', String(port), ...extra], uid: news.uid, gid: news.gid, env });
  const plain = daemon('nnrpd', nntp, []);
  const tls = daemon('nnrpd-tls', nntps, ['-S']);
  await Promise.all([waitForPorts(plain, [nntp]), waitForPorts(tls, [nntps])]);
  return [
    { server: 'inn', scheme: 'nntp', port: nntp, scenario: 'valid', starttls: 'nntp' },
    { server: 'inn', scheme: 'nntps', port: nntps, scenario: 'valid', starttls: null },
  ];
}

export const inn: ServerModule = { name: 'inn', start };
