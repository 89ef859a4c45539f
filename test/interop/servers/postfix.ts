// Postfix: STARTTLS on a relay port for every certificate scenario (one smtpd line per
// scenario, each with its own -o smtpd_tls_chain_files), plus a submission port with
// mandatory TLS and SMTPS (wrapper mode) on the valid certificate. One master, run with -d so
// the pid we spawned is the master itself (`postfix start-fg` forks it away from us).
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, lowSeclevelConf, scenarios, type Ctx, type Endpoint, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';
import { run } from '../lib/run.ts';
import { chownTree, user } from '../lib/system.ts';

async function start(ctx: Ctx): Promise<Endpoint[]> {
  const dir = join(ctx.dir, 'postfix');
  const conf = join(dir, 'conf');
  mkdirSync(conf, { recursive: true });
  mkdirSync(join(dir, 'queue'), { recursive: true });
  mkdirSync(join(dir, 'data'), { recursive: true });
  chownTree(join(dir, 'data'), user('postfix'));
  chmodSync(dir, 0o755);

  const endpoints: Endpoint[] = [];
  const services: string[] = [];
  for (const s of scenarios) {
    const port = await ctx.procs.port();
    services.push(`127.0.0.1:${port} inet n - n - - smtpd -o smtpd_tls_chain_files=${certFiles(ctx, s).combined}`);
    endpoints.push({ server: 'postfix', scheme: 'smtp', port, scenario: s, starttls: 'smtp' });
  }
  // A relay port without TLS at all: EHLO lists no STARTTLS.
  const plain = await ctx.procs.port();
  services.push(`127.0.0.1:${plain} inet n - n - - smtpd -o smtpd_tls_security_level=none`);
  endpoints.push({ server: 'postfix', scheme: 'smtp', port: plain, scenario: 'valid', starttls: 'smtp', expectError: 'STARTTLS_NOT_OFFERED' });
  const submission = await ctx.procs.port();
  const smtps = await ctx.procs.port();
  services.push(`127.0.0.1:${submission} inet n - n - - smtpd -o smtpd_tls_security_level=encrypt`);
  services.push(`127.0.0.1:${smtps} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes`);
  endpoints.push({ server: 'postfix', scheme: 'submission', port: submission, scenario: 'valid', starttls: 'smtp' });
  endpoints.push({ server: 'postfix', scheme: 'smtps', port: smtps, scenario: 'valid', starttls: null });

  // No local delivery and no lookup tables: smtpd otherwise waits on proxymap for
  // local_recipient_maps before it even sends its banner.
  writeFileSync(
    join(conf, 'main.cf'),
    `compatibility_level = 3.6
queue_directory = ${dir}/queue
data_directory = ${dir}/data
myhostname = interop.test
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
maillog_file = /dev/stdout
smtpd_tls_security_level = may
smtpd_tls_chain_files = ${certFiles(ctx, 'valid').combined}
smtpd_tls_loglevel = 1
# Postfix passes daemons only the variables named here; OPENSSL_CONF lowers the security
# level so the weak scenario's RSA-1024/SHA-1 certificate loads.
import_environment = MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ LANG=C OPENSSL_CONF=${lowSeclevelConf(ctx)}
tls_medium_cipherlist = DEFAULT:@SECLEVEL=0
`,
  );
  writeFileSync(
    join(conf, 'master.cf'),
    `${services.join('\n')}
tlsmgr unix - - n 1000? 1 tlsmgr
anvil unix - - n - 1 anvil
proxymap unix - - n - - proxymap
postlog unix-dgram n - n - 1 postlogd
`,
  );
  // `postfix check` creates the queue's subdirectories with the owners and modes Postfix wants.
  const check = await run('/usr/sbin/postfix', ['-c', conf, 'check'], 60_000);
  if (check.code !== 0) throw new Error(`postfix check failed: ${check.stdout}${check.stderr}`);
  const p = ctx.procs.spawn({ name: 'postfix', cmd: '/usr/lib/postfix/sbin/master', args: ['-c', conf, '-d'], env: { MAIL_CONFIG: conf } });
  await waitForPorts(p, endpoints.map((e) => e.port));
  return endpoints;
}

export const postfix: ServerModule = { name: 'postfix', start };
