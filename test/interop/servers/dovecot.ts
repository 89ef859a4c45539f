// Dovecot: IMAP STARTTLS, IMAPS, POP3 STLS, POP3S, ManageSieve STARTTLS and LMTP STARTTLS over
// TCP on the valid certificate; IMAP STARTTLS alone for every other scenario. ssl_cert is
// per instance, so one dovecot instance (own base_dir, own config, -F) per scenario.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, lowSeclevelConf, scenarios, type Ctx, type Endpoint, type Scenario, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';

async function startInstance(ctx: Ctx, s: Scenario): Promise<Endpoint[]> {
  const dir = join(ctx.dir, 'dovecot', s);
  mkdirSync(dir, { recursive: true });
  const f = certFiles(ctx, s);
  const full = s === 'valid';
  const port = { imap: await ctx.procs.port(), imaps: await ctx.procs.port(), pop3: await ctx.procs.port(), pop3s: await ctx.procs.port(), sieve: await ctx.procs.port(), lmtp: await ctx.procs.port() };
  const ep = (scheme: string, p: number, starttls: string | null): Endpoint => ({ server: 'dovecot', scheme, port: p, scenario: s, starttls });
  const endpoints = [ep('imap', port.imap, 'imap')];
  if (full) {
    endpoints.push(ep('imaps', port.imaps, null), ep('pop3', port.pop3, 'pop3'), ep('pop3s', port.pop3s, null));
    endpoints.push(ep('sieve', port.sieve, 'sieve'), ep('lmtp', port.lmtp, 'lmtp'));
  }
  const log = join(ctx.logs, `dovecot-${s}.log`);
  // Every inet_listener is given a high port explicitly: the defaults are 143/993/110/995/4190.
  const conf = `protocols = ${full ? 'imap pop3 sieve lmtp' : 'imap'}
listen = 127.0.0.1
base_dir = ${dir}/run
instance_name = certwatch-${s}
log_path = ${log}
info_log_path = ${log}
ssl = yes
ssl_cert = <${f.served}
ssl_key = <${f.key}
ssl_dh = <${join(ctx.certs, 'dh.pem')}
ssl_cipher_list = DEFAULT:@SECLEVEL=0
ssl_min_protocol = TLSv1.2
# Dovecot scrubs the environment of its login processes; they do the TLS handshakes.
import_environment = TZ OPENSSL_CONF=${lowSeclevelConf(ctx)}
auth_mechanisms = plain
passdb {
  driver = static
  args = password=interop
}
userdb {
  driver = static
  args = uid=65534 gid=65534 home=${dir}/home/%u
}
mail_location = maildir:${dir}/mail/%u
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port.imap}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${port.imaps}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${port.pop3}
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = ${port.pop3s}
    ssl = yes
  }
}
service managesieve-login {
  inet_listener sieve {
    address = 127.0.0.1
    port = ${port.sieve}
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = ${port.lmtp}
  }
}
`;
  const file = join(dir, 'dovecot.conf');
  writeFileSync(file, conf);
  const p = ctx.procs.spawn({ name: `dovecot-${s}`, cmd: '/usr/sbin/dovecot', args: ['-F', '-c', file] });
  await waitForPorts(p, endpoints.map((e) => e.port));
  return endpoints;
}

async function start(ctx: Ctx): Promise<Endpoint[]> {
  return (await Promise.all(scenarios.map((s) => startInstance(ctx, s)))).flat();
}

export const dovecot: ServerModule = { name: 'dovecot', start };
