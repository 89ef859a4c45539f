// vsftpd: FTP AUTH TLS (RFC 4217) and implicit FTPS, valid certificate, one standalone
// instance each (implicit_ssl is per instance), in the foreground (background=NO).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, lowSeclevelConf, type Ctx, type Endpoint, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';

async function instance(ctx: Ctx, implicit: boolean): Promise<Endpoint> {
  const name = implicit ? 'vsftpd-implicit' : 'vsftpd-explicit';
  const dir = join(ctx.dir, 'vsftpd', name);
  const empty = join(dir, 'empty');
  mkdirSync(empty, { recursive: true });
  const port = await ctx.procs.port();
  const f = certFiles(ctx, 'valid');
  // seccomp_sandbox and isolate* off: they need kernel features that containers (and gVisor)
  // often lack, and vsftpd then dies at the first connection, not at start.
  const conf = `listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=${port}
background=NO
anonymous_enable=NO
local_enable=YES
pam_service_name=vsftpd
secure_chroot_dir=${empty}
seccomp_sandbox=NO
isolate=NO
isolate_network=NO
xferlog_enable=NO
vsftpd_log_file=${ctx.logs}/${name}.log
ssl_enable=YES
implicit_ssl=${implicit ? 'YES' : 'NO'}
rsa_cert_file=${f.served}
rsa_private_key_file=${f.key}
ssl_ciphers=HIGH
require_ssl_reuse=NO
`;
  const file = join(dir, 'vsftpd.conf');
  writeFileSync(file, conf, { mode: 0o600 });
  const p = ctx.procs.spawn({ name, cmd: '/usr/sbin/vsftpd', args: [file], env: { OPENSSL_CONF: lowSeclevelConf(ctx) } });
  await waitForPorts(p, [port]);
  return { server: 'vsftpd', scheme: implicit ? 'ftps' : 'ftp', port, scenario: 'valid', starttls: implicit ? null : 'ftp' };
}

async function start(ctx: Ctx): Promise<Endpoint[]> {
  return Promise.all([instance(ctx, false), instance(ctx, true)]);
}

export const vsftpd: ServerModule = { name: 'vsftpd', start };
