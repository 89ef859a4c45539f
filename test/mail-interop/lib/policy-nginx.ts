// nginx as the MTA-STS policy host of every test domain: one port with the interop "valid"
// certificate (valid for *.<zone>), one with the "wronghost" certificate (a bad policy host).
// The policy is chosen by Host header, as a real multi-domain policy host does.
import { certFiles, type Ctx } from '../../interop/lib/context.ts';
import { runNginx } from '../../interop/servers/nginx.ts';

/** The ports of the policy host. */
export interface PolicyHost {
  port: number;
  badCertPort: number;
}

/** Policy bodies keyed by mail domain (served as mta-sts.<domain>). */
export async function startPolicyHost(ctx: Ctx, policies: Record<string, string>): Promise<PolicyHost> {
  const port = await ctx.procs.port();
  const badCertPort = await ctx.procs.port();
  const map = Object.entries(policies).map(([domain, body]) => `    mta-sts.${domain} ${JSON.stringify(body)};`);
  const server = (p: number, scenario: 'valid' | 'wronghost'): string => `  server {
    listen 127.0.0.1:${p} ssl;
    ssl_certificate ${certFiles(ctx, scenario).served};
    ssl_certificate_key ${certFiles(ctx, scenario).key};
    location = /.well-known/mta-sts.txt {
      if ($policy = "") { return 404; }
      default_type text/plain;
      return 200 $policy;
    }
    location / { return 404; }
  }`;
  const body = `  map $host $policy {
    default "";
${map.join('\n')}
  }
${server(port, 'valid')}
${server(badCertPort, 'wronghost')}`;
  await runNginx(ctx, 'policy-nginx', `access_log ${ctx.logs}/policy-nginx-access.log;`, body, [port, badCertPort]);
  return { port, badCertPort };
}
