// Mail interop driver: the real Postfix, Dovecot and nginx of the interop suite, Knot serving
// DNSSEC-signed test zones whose MX, SRV, TLSA and TXT records point at them, Unbound
// validating with the zones' trust anchors; then every case of cases.ts through certwatch's
// own mail check, and the stop with the leftover check.
//   node test/mail-interop/suite.ts --dir <run dir with certs/> [--keep]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TrustStore } from '../../src/cert/trust.ts';
import { DnsCache } from '../../src/dns/cache.ts';
import { DnsClient } from '../../src/dns/client.ts';
import { checkMailDomain } from '../../src/mail/check.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { listeningPorts } from '../interop/lib/leftovers.ts';
import { SuiteReport } from '../interop/lib/report.ts';
import { certFiles, lowSeclevelConf, lowSeclevelConfText, type Ctx, type Endpoint } from '../interop/lib/context.ts';
import { Processes, tail } from '../interop/lib/procs.ts';
import { dovecot } from '../interop/servers/dovecot.ts';
import { postfix } from '../interop/servers/postfix.ts';
import { cases, policies, type Env, type Run } from './cases.ts';
import { reissueValidLeaf, spkiSha256 } from './lib/certs.ts';
import { startDns } from './lib/dns-servers.ts';
import { startPolicyHost } from './lib/policy-nginx.ts';
import { zoneNames, zones, type World } from './lib/zones.ts';

/** Standard ports of the servers this suite adds: DNS, DNS over TLS, unbound-control. */
const dnsPorts = [53, 853, 8953];

/** A port that accepts connections and never says a word (a hung MX). */
async function silentPort(ctx: Ctx): Promise<{ port: number; close(): Promise<void> }> {
  const port = await ctx.procs.port();
  const sockets = new Set<Socket>();
  const server: Server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((ok, fail) => server.once('error', fail).listen(port, '127.0.0.1', ok));
  return {
    port,
    close: () => new Promise<void>((ok) => {
      for (const s of sockets) s.destroy();
      server.close(() => ok());
    }),
  };
}

function endpoint(list: Endpoint[], server: string, scheme: string): Endpoint {
  const e = list.find((x) => x.server === server && x.scheme === scheme && x.scenario === 'valid' && x.expectError === undefined);
  if (e === undefined) throw new Error(`${server} has no ${scheme} endpoint with the valid certificate`);
  return e;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { dir: { type: 'string' }, keep: { type: 'boolean' } } });
  if (!values.dir) throw new Error('--dir is required');
  const dir = resolve(values.dir);
  const ctx: Ctx = { dir, logs: join(dir, 'logs'), certs: join(dir, 'certs'), procs: new Processes(join(dir, 'logs')) };
  mkdirSync(ctx.logs, { recursive: true });
  writeFileSync(lowSeclevelConf(ctx), lowSeclevelConfText);
  reissueValidLeaf(ctx.certs, zoneNames);
  const listeningBefore = await listeningPorts();
  const report = new SuiteReport('mail-interop');
  report.stopOnSignals(ctx);
  const fail = report.fail.bind(report);
  const silent: { port: number; close(): Promise<void> }[] = [];
  try {
    const t0 = Date.now();
    silent.push(await silentPort(ctx), await silentPort(ctx));
    const [pf, dc, policy] = await Promise.all([postfix.start(ctx), dovecot.start(ctx), startPolicyHost(ctx, policies)]);
    const relay = endpoint(pf, 'postfix', 'smtp');
    const world: World = {
      leafSpki: spkiSha256(certFiles(ctx, 'valid').leaf),
      intermediateSpki: spkiSha256(join(ctx.certs, 'intermediate.pem')),
      otherSpki: spkiSha256(certFiles(ctx, 'ecdsa').leaf),
      rootSpki: spkiSha256(join(ctx.certs, 'root.pem')),
      ports: { submissions: endpoint(pf, 'postfix', 'smtps').port, submission: endpoint(pf, 'postfix', 'submission').port, imaps: endpoint(dc, 'dovecot', 'imaps').port, silentPop3s: silent[1]!.port },
    };
    const zs = zones(world);
    if (JSON.stringify(zs.map((z) => z.name)) !== JSON.stringify(zoneNames)) throw new Error('lib/zones.ts: zoneNames and zones() disagree');
    const dns = await startDns(dir, ctx.procs, zs);
    report.pass(`servers up in ${Date.now() - t0} ms: postfix, dovecot, policy nginx, knotd (${zs.filter((z) => z.signed).length} signed zones, 1 unsigned), unbound; resolver 127.0.0.1:${dns.resolver.port}`);

    const rootPem = readFileSync(join(ctx.certs, 'root.pem'), 'utf8');
    const trust = TrustStore.fromPem(rootPem, 'interop root');
    // The SSRF guard stays on: loopback is allowed through its explicit allow list only.
    const addressPolicy = createAddressPolicy({ allowCidrs: ['127.0.0.0/8'] });
    const env: Env = {
      dns,
      world,
      policy,
      runs: [],
      async check(domain, opts = {}) {
        const timeoutMs = opts.timeoutMs ?? 10_000;
        const mark = dns.logMark();
        const started = Date.now();
        // A fresh cache per check, as `certwatch check --mail` makes one per invocation.
        const report = await checkMailDomain(domain, {
          dns: new DnsCache(new DnsClient({ servers: [dns.resolver], timeoutMs: Math.min(timeoutMs, 5000) })).run(),
          trust,
          policyCa: [rootPem],
          addressPolicy,
          timeoutMs,
          warnDays: 30,
          critDays: 7,
          // MX hosts listen on test ports, not 25: the silent host on its own, the rest on Postfix.
          smtpPort: (host) => (host === 'mx3.wide.test' ? silent[0]!.port : relay.port),
          ...(opts.policyPort === undefined ? {} : { policyPort: opts.policyPort }),
        });
        const run: Run = { report, ms: Date.now() - started, queries: dns.queriesSince(mark) };
        env.runs.push(run);
        return run;
      },
    };
    for (const c of cases) {
      try {
        const out = await c.run(env);
        if (out.failures.length === 0) report.pass(`${c.name}\n       ${out.summary}`);
        else fail(c.name, `${out.failures.join('\n')}\n(${out.summary})`);
      } catch (err) {
        fail(c.name, err instanceof Error ? (err.stack ?? err.message) : String(err));
      }
    }
  } catch (err) {
    fail('setup', err instanceof Error ? (err.stack ?? err.message) : String(err));
  } finally {
    await Promise.all(silent.map((s) => s.close()));
    await report.stopAll(ctx, values.keep === true, dir, listeningBefore, dnsPorts);
  }
  return report.end(ctx, () => console.log(`--- unbound query log (last lines)\n${tail(join(dir, 'dns', 'queries.log'), 30)}`));
}

process.exitCode = await main().catch((e: unknown) => {
  console.error(e);
  return 1;
});
