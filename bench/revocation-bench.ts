// Revocation cost, two modes (npm run bench:revocation -- [mode]):
//
// judge (default; `node bench/revocation-bench.ts [N]`): N judgements of chains from a
// loopback PKI, plain and through the Revocation service (a CRL, caIssuers), 20 at a time. Prints the fetches made and the wall and CPU time per probe of the
// judge step with / without revocation (no network time).
//
// scheduled-run (`node bench/revocation-bench.ts --scheduled-run [N] [--concurrency C]`): N
// loopback TLS targets whose leaves come from 5 CAs with CRL distribution points and OCSP URLs
// on a local HTTP server (bench/revocation-servers.ts, a child process), probed by one Prober
// C at a time like a scheduled run (CHECK_CONCURRENCY), alternately with revocation off and
// on (a fresh Revocation each time: cold caches, the worst case), twice each. Prints each
// run's time, the on/off ratio and the fetches per path: each CRL must be fetched once per run.
import { fork } from 'node:child_process';
import { TrustStore } from '../src/cert/trust.ts';
import { judge } from '../src/cert/judge.ts';
import { HttpClient } from '../src/net/http-client.ts';
import { Prober } from '../src/probe/probe.ts';
import { parseTarget } from '../src/probe/target.ts';
import { Revocation } from '../src/revocation/index.ts';
import { createAddressPolicy } from '../src/security/address-policy.ts';
import { revocationPki } from '../test/helpers/revocation-pki.ts';
import type { RevocationBenchServers } from './revocation-servers.ts';

const args = process.argv.slice(2);
const flag = (name: string): number | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : undefined;
};
const loopback = createAddressPolicy({ allowCidrs: ['127.0.0.1/32'] });
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

if (args.includes('--scheduled-run')) await scheduledRun();
else await judgeStep();

async function judgeStep(): Promise<void> {
  const N = Number(args.find((a) => /^\d+$/.test(a)) ?? 10_000);
  const pki = await revocationPki();
  const trust = TrustStore.fromPem(pki.root.pem, 'bench root');
  // The leaves' CRL (fresh, listing the revoked one) answers, so the responder is not asked.
  pki.crlBody.current = await pki.crl([pki.revoked], 3_600_000);
  const chains = [[pki.good.der, pki.inter.der], [pki.revoked.der, pki.inter.der], [pki.good.der]];
  const input = (i: number) => ({ chain: chains[i % chains.length]!, tlsVersion: 'TLSv1.3', expectedName: 'revoke.test', now: new Date(), warnDays: 30, critDays: 7 });
  const service = new Revocation({ http: new HttpClient({ addressPolicy: loopback }) });
  // Warm both paths (parsing, caches) so that the two timings compare steady states.
  for (let i = 0; i < 100; i++) judge(input(i), trust);
  for (let i = 0; i < 100; i += 20) await Promise.all(Array.from({ length: 20 }, (_, k) => service.judge({ judge: input(i + k), trust, staple: null })));
  let t = performance.now();
  let c = cpuMs();
  for (let i = 0; i < N; i++) judge(input(i), trust);
  const plainMs = performance.now() - t;
  const plainCpu = cpuMs() - c;
  t = performance.now();
  c = cpuMs();
  // 20 at a time, like CHECK_CONCURRENCY.
  for (let i = 0; i < N; i += 20) await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, k) => service.judge({ judge: input(i + k), trust, staple: null })));
  const revMs = performance.now() - t;
  const revCpu = cpuMs() - c;
  const fetches = [...pki.hits.values()].reduce((a, b) => a + b, 0);
  console.log(
    JSON.stringify({
      judgements: N,
      plainMs: Math.round(plainMs),
      withRevocationMs: Math.round(revMs),
      plainCpuMsPerProbe: +(plainCpu / N).toFixed(3),
      withRevocationCpuMsPerProbe: +(revCpu / N).toFixed(3),
      extraCpuMsPerProbe: +((revCpu - plainCpu) / N).toFixed(3),
      fetches: Object.fromEntries(pki.hits),
      totalFetches: fetches,
    }),
  );
  await pki.close();
}

async function scheduledRun(): Promise<void> {
  const N = Number(args.find((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--concurrency') ?? 10_000);
  const concurrency = flag('--concurrency') ?? 20;
  const t0 = performance.now();
  const child = fork(new URL('./revocation-servers.ts', import.meta.url).pathname, [String(N)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const servers = await new Promise<RevocationBenchServers>((resolve) => child.once('message', (m) => resolve(m as RevocationBenchServers)));
  const hits = (): Promise<Record<string, number>> => {
    child.send('hits');
    return new Promise((resolve) => child.once('message', (m) => resolve(m as Record<string, number>)));
  };
  console.log(`${N} targets, 5 CAs, servers ready in ${((performance.now() - t0) / 1000).toFixed(1)} s; concurrency ${concurrency}`);
  const trust = TrustStore.fromPem(servers.rootPem, 'bench root');
  const targets = Array.from({ length: N }, (_, i) => parseTarget(`127.0.0.1:${servers.tlsPort}`, { servername: `t${i}.bench.test` }));
  const opts = { timeoutMs: 20_000, warnDays: 0, critDays: 0 };

  async function run(on: boolean): Promise<{ ms: number; cpu: number; revoked: number; unknown: number; failed: number; fetches: Record<string, number> }> {
    const prober = new Prober({ trust, ...(on ? { revocation: new Revocation({ http: new HttpClient({ addressPolicy: loopback }) }) } : {}) });
    const before = await hits();
    let next = 0;
    let revoked = 0;
    let unknown = 0;
    let failed = 0;
    const t = performance.now();
    const c = cpuMs();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < N) {
          const [r] = await prober.probe(targets[next++]!, opts);
          if (r === undefined || r.error !== null) failed++;
          else if (r.problems.some((p) => p.code === 'REVOKED')) revoked++;
          else if (r.problems.some((p) => p.code === 'REVOCATION_UNKNOWN')) unknown++;
        }
      }),
    );
    const ms = performance.now() - t;
    const cpu = cpuMs() - c;
    const after = await hits();
    const fetches = Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => v !== 0));
    return { ms, cpu, revoked, unknown, failed, fetches };
  }

  await run(false); // warm-up: TLS sessions, parsed certificates, JIT
  const rows: { on: boolean; ms: number; cpu: number }[] = [];
  for (const on of [false, true, false, true]) {
    const r = await run(on);
    rows.push({ on, ms: r.ms, cpu: r.cpu });
    console.log(
      `revocation ${on ? 'on ' : 'off'}: ${(r.ms / 1000).toFixed(2)} s (${Math.round((N / r.ms) * 1000)} probes/s, parent CPU ${(r.cpu / N).toFixed(3)} ms/probe), ` +
        `${r.revoked} REVOKED (expected ${on ? Math.ceil(N / servers.revokedEvery) : 0}), ${r.unknown} REVOCATION_UNKNOWN, ${r.failed} failed, fetches ${JSON.stringify(r.fetches)}`,
    );
  }
  const sum = (on: boolean, k: 'ms' | 'cpu'): number => rows.filter((r) => r.on === on).reduce((a, r) => a + r[k], 0);
  console.log(`ratio on/off: time x${(sum(true, 'ms') / sum(false, 'ms')).toFixed(3)}, parent CPU x${(sum(true, 'cpu') / sum(false, 'cpu')).toFixed(3)} (target: time <= x1.10)`);
  child.disconnect();
  child.kill();
}
