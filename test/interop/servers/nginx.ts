// nginx HTTPS: one master process, one server block (port) per certificate scenario.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { certFiles, scenarios, type Ctx, type Endpoint, type ServerModule } from '../lib/context.ts';
import { waitForPorts } from '../lib/procs.ts';

async function start(ctx: Ctx): Promise<Endpoint[]> {
  const endpoints: Endpoint[] = [];
  const blocks: string[] = [];
  for (const s of scenarios) {
    const port = await ctx.procs.port();
    const f = certFiles(ctx, s);
    // @SECLEVEL=0 lets OpenSSL 3 load the RSA-1024/SHA-1 certificate of the weak scenario.
    blocks.push(`  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${f.served};
    ssl_certificate_key ${f.key};
    ssl_ciphers DEFAULT:@SECLEVEL=0;
    location / { return 204; }
  }`);
    endpoints.push({ server: 'nginx', scheme: 'https', port, scenario: s, starttls: null });
  }
  await runNginx(ctx, 'nginx', 'access_log off;', blocks.join('\n'), endpoints.map((e) => e.port));
  return endpoints;
}

/**
 * Runs a private nginx (one master, one worker, everything under ctx.dir/<name>, logs in
 * ctx.logs) whose http block holds `access` and `body`, and waits for `ports` to listen.
 */
export async function runNginx(ctx: Ctx, name: string, access: string, body: string, ports: number[]): Promise<void> {
  const dir = join(ctx.dir, name);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${ctx.logs}/${name}.log info;
events { worker_connections 64; }
http {
  ${access}
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
${body}
}
`,
  );
  const p = ctx.procs.spawn({ name, cmd: '/usr/sbin/nginx', args: ['-p', dir, '-c', conf] });
  await waitForPorts(p, ports);
}

export const nginx: ServerModule = { name: 'nginx', start };
