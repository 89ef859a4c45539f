// Prosody XMPP: client STARTTLS (RFC 6120 §5), direct TLS on a c2s port (XEP-0368) and
// server-to-server STARTTLS, valid certificate, VirtualHost "localhost" (the servername the
// suite checks with, which becomes the stream's `to`).
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, lowSeclevelConf, type Ctx, type Endpoint, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';
import { chownTree, user } from '../lib/system.ts';

async function start(ctx: Ctx): Promise<Endpoint[]> {
  const dir = join(ctx.dir, 'prosody');
  mkdirSync(join(dir, 'data'), { recursive: true });
  // Prosody refuses to run as root (mod_posix: "Refusing to run as root"): start it as its
  // own user, with copies of the certificate it may read.
  const f = certFiles(ctx, 'valid');
  copyFileSync(f.served, join(dir, 'localhost.crt'));
  copyFileSync(f.key, join(dir, 'localhost.key'));
  const owner = user('prosody');
  chownTree(dir, owner);
  const c2s = await ctx.procs.port();
  const c2sTls = await ctx.procs.port();
  const s2s = await ctx.procs.port();
  const conf = join(dir, 'prosody.cfg.lua');
  writeFileSync(
    conf,
    `pidfile = "${dir}/prosody.pid"
data_path = "${dir}/data"
certificates = "${dir}"
daemonize = false
log = { { levels = { min = "info" }, to = "console" } }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { ${c2s} }
c2s_direct_tls_ports = { ${c2sTls} }
s2s_ports = { ${s2s} }
http_ports = { }
https_ports = { }
component_ports = { }
modules_enabled = { "tls", "saslauth", "dialback", "disco" }
authentication = "internal_hashed"
ssl = { certificate = "${dir}/localhost.crt", key = "${dir}/localhost.key" }
VirtualHost "localhost"
  ssl = { certificate = "${dir}/localhost.crt", key = "${dir}/localhost.key" }
`,
  );
  const p = ctx.procs.spawn({ name: 'prosody', cmd: '/usr/bin/prosody', args: ['-F', '--config', conf], uid: owner.uid, gid: owner.gid, env: { OPENSSL_CONF: lowSeclevelConf(ctx) } });
  await waitForPorts(p, [c2s, c2sTls, s2s]);
  const xmpphost = ['-xmpphost', 'localhost'];
  return [
    { server: 'prosody', scheme: 'xmpp', port: c2s, scenario: 'valid', starttls: 'xmpp', sclientArgs: xmpphost },
    { server: 'prosody', scheme: 'xmpps', port: c2sTls, scenario: 'valid', starttls: null },
    { server: 'prosody', scheme: 'xmpp-server', port: s2s, scenario: 'valid', starttls: 'xmpp-server', sclientArgs: xmpphost },
  ];
}

export const prosody: ServerModule = { name: 'prosody', start };
