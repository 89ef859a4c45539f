// OpenLDAP slapd: StartTLS and LDAPS. The TLS certificate is global to a slapd, so one slapd
// per certificate scenario, each from a minimal slapd.conf (-f) with no database at all: the
// StartTLS extended operation (RFC 4511 §4.14) needs none.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, scenarios, type Ctx, type Endpoint, type Scenario, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';

/**
 * Quirk kept as its own endpoint: slapd's GnuTLS backend, given a certificate file with only
 * the leaf, completes the chain from TLSCACertificateFile and sends leaf, intermediate AND
 * root. certwatch must judge that chain ok (a sent root is harmless) and count 3 certificates.
 */
const caFileVariant = 'valid-cafile';

async function start(ctx: Ctx): Promise<Endpoint[]> {
  const all = await Promise.all(
    [...scenarios, caFileVariant].map(async (name): Promise<Endpoint[]> => {
      const dir = join(ctx.dir, 'slapd', name);
      mkdirSync(dir, { recursive: true });
      const s: Scenario = name === caFileVariant ? 'valid' : (name as Scenario);
      const f = certFiles(ctx, name === caFileVariant ? 'incomplete' : s);
      const bundle = join(dir, 'ca-bundle.pem');
      writeFileSync(bundle, ['intermediate.pem', 'root.pem'].map((c) => readFileSync(join(ctx.certs, c), 'utf8')).join(''));
      const conf = join(dir, 'slapd.conf');
      // Debian's slapd links GnuTLS: TLSCipherSuite is a GnuTLS priority string, and NORMAL
      // still lets it load the RSA-1024/SHA-1 certificate of the weak scenario.
      writeFileSync(
        conf,
        `include /etc/ldap/schema/core.schema
pidfile ${dir}/slapd.pid
argsfile ${dir}/slapd.args
TLSCertificateFile ${f.served}
TLSCertificateKeyFile ${f.key}
TLSCipherSuite NORMAL
${name === caFileVariant ? `TLSCACertificateFile ${bundle}\n` : ''}`,
      );
      const ldap = await ctx.procs.port();
      const ldaps = await ctx.procs.port();
      // -d 0 keeps slapd in the foreground (no fork), so the pid we spawned is the daemon.
      const p = ctx.procs.spawn({
        name: `slapd-${name}`,
        cmd: '/usr/sbin/slapd',
        args: ['-d', '0', '-f', conf, '-h', `ldap://127.0.0.1:${ldap}/ ldaps://127.0.0.1:${ldaps}/`],
        cwd: dir,
      });
      await waitForPorts(p, [ldap, ldaps]);
      if (name === caFileVariant) {
        const why = 'slapd (GnuTLS) completes a leaf-only certificate file from TLSCACertificateFile';
        return [{ server: 'slapd', scheme: 'ldap', port: ldap, scenario: s, starttls: 'ldap', chainLength: { count: 3, why } }];
      }
      const endpoints: Endpoint[] = [{ server: 'slapd', scheme: 'ldap', port: ldap, scenario: s, starttls: 'ldap' }];
      if (s === 'valid') endpoints.push({ server: 'slapd', scheme: 'ldaps', port: ldaps, scenario: s, starttls: null });
      return endpoints;
    }),
  );
  return all.flat();
}

export const slapd: ServerModule = { name: 'slapd', start };
