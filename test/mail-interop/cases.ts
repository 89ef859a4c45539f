// The cases of the mail interop suite (docs/mail.md "Real-server suite"). Each checks one
// domain of lib/zones.ts through Unbound and Knot against the real Postfix, Dovecot and nginx,
// and returns what failed (empty: passed) and a one-line summary of what it saw.
import type { MailHost, MailReport } from '../../src/mail/check.ts';
import type { Dns } from './lib/dns-servers.ts';
import type { PolicyHost } from './lib/policy-nginx.ts';
import { movingMx, zones, type World } from './lib/zones.ts';

/** One check of one domain, as the suite ran it. */
export interface Run {
  report: MailReport;
  ms: number;
  /** Queries Unbound received during the run, `TYPE name` → count. */
  queries: Map<string, number>;
}

/** What the cases can do. */
export interface Env {
  check(domain: string, opts?: { timeoutMs?: number; policyPort?: number }): Promise<Run>;
  dns: Dns;
  world: World;
  policy: PolicyHost;
  /** Every run so far, for the DNS budget case. */
  runs: Run[];
}

export interface Outcome {
  failures: string[];
  summary: string;
}

export interface Case {
  name: string;
  run(env: Env): Promise<Outcome>;
}

/** The MTA-STS policies nginx serves, by domain. */
export const policies: Record<string, string> = {
  'stsok.test': 'version: STSv1\nmode: enforce\nmx: *.stsok.test\nmax_age: 86400\n',
  'stsbad.test': 'version: STSv1\nmode: enforce\nmx: mail.elsewhere.test\nmax_age: 86400\n',
  'stscert.test': 'version: STSv1\nmode: enforce\nmx: *.stscert.test\nmax_age: 86400\n',
};

const codes = (h: { findings: { code: string }[] }): string[] => h.findings.map((f) => f.code).sort();
const probeErrors = (h: MailHost): string => h.results.map((r) => `${r.address}: ${r.status}${r.error ? ` ${r.error.code} ${r.error.message}` : ''} [${r.problems.map((p) => `${p.code}: ${p.message}`).join('; ')}]`).join('; ');

/** Collects failures: `eq(actual, expected, what)` records a failure when they differ. */
function expectations(): { failures: string[]; eq: (actual: unknown, expected: unknown, what: string) => void; ok: (cond: boolean, what: string) => void } {
  const failures: string[] = [];
  return {
    failures,
    eq: (actual, expected, what) => {
      if (JSON.stringify(actual) !== JSON.stringify(expected)) failures.push(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
    },
    ok: (cond, what) => {
      if (!cond) failures.push(what);
    },
  };
}

/** Every host reached its server and got a certificate without problems. */
function hostsProbedOk(hosts: MailHost[], ok: (c: boolean, w: string) => void): void {
  for (const h of hosts) ok(h.results.length > 0 && h.results.every((r) => r.error === null && r.problems.length === 0), `${h.label} ${h.host}:${h.port} probe: ${probeErrors(h)}`);
}

export const cases: Case[] = [
  {
    name: 'DANE: 3 1 1 and 2 1 1 that match give DANE match; 3 1 1 of another key and 2 1 1 of the unsent root are DANE_MISMATCH (critical)',
    async run(env) {
      const { report: r, ms } = await env.check('dane.test');
      const x = expectations();
      x.eq(r.hosts.map((h) => h.host), ['ee-ok.dane.test', 'ta-ok.dane.test', 'ee-bad.dane.test', 'ta-bad.dane.test'], 'MX hosts in preference order');
      x.eq(r.hosts.map((h) => h.dane?.state), ['match', 'match', 'mismatch', 'mismatch'], 'DANE states');
      x.eq(r.hosts.map(codes), [[], [], ['DANE_MISMATCH'], ['DANE_MISMATCH']], 'host findings');
      x.eq(r.hosts.map((h) => h.status), ['ok', 'ok', 'critical', 'critical'], 'host statuses');
      x.eq(r.status, 'critical', 'domain status');
      hostsProbedOk(r.hosts, x.ok);
      return { failures: x.failures, summary: `${r.hosts.map((h) => `${h.host.split('.')[0]} ${h.dane?.records[0]?.record ?? '-'} ${h.dane?.state}`).join(', ')} (${ms} ms)` };
    },
  },
  {
    name: 'DANE: a matching TLSA record in an unsigned zone is ignored with DANE_UNSIGNED (note)',
    async run(env) {
      const { report: r } = await env.check('unsigned.test');
      const x = expectations();
      x.eq(r.hosts.map((h) => h.dane?.state), ['unsigned'], 'DANE state');
      x.eq(r.hosts.map((h) => h.findings.map((f) => `${f.code}/${f.severity}`)), [['DANE_UNSIGNED/note']], 'findings');
      x.eq(r.status, 'ok', 'domain status (a note changes nothing)');
      hostsProbedOk(r.hosts, x.ok);
      return { failures: x.failures, summary: `${r.hosts[0]?.findings[0]?.message ?? 'no finding'}` };
    },
  },
  {
    name: 'MTA-STS: enforce with an mx pattern every MX matches is valid, no finding; TLS-RPT valid',
    async run(env) {
      const { report: r } = await env.check('stsok.test', { policyPort: env.policy.port });
      const x = expectations();
      x.eq([r.mtaSts.state, r.mtaSts.id, r.mtaSts.policy?.mode, r.mtaSts.policy?.mx], ['valid', 'ok1', 'enforce', ['*.stsok.test']], 'MTA-STS state, id, mode, mx');
      x.eq(r.tlsRpt, { state: 'valid', rua: ['mailto:tlsrpt@example.net'] }, 'TLS-RPT');
      x.eq([...r.findings, ...r.hosts.flatMap((h) => h.findings)].map((f) => f.code), [], 'findings');
      x.eq(r.status, 'ok', 'domain status');
      hostsProbedOk(r.hosts, x.ok);
      return { failures: x.failures, summary: `MTA-STS ${r.mtaSts.policy?.mode} mx ${r.mtaSts.policy?.mx.join(',')}; ${r.hosts.map((h) => `${h.host} ${h.status}`).join(', ')}` };
    },
  },
  {
    name: 'MTA-STS: enforce with an mx pattern the MX does not match is MTA_STS_MISMATCH (critical)',
    async run(env) {
      const { report: r } = await env.check('stsbad.test', { policyPort: env.policy.port });
      const x = expectations();
      x.eq([r.mtaSts.state, r.mtaSts.policy?.mode], ['valid', 'enforce'], 'MTA-STS state and mode');
      x.eq(r.hosts.map((h) => h.findings.map((f) => `${f.code}/${f.severity}`)), [['MTA_STS_MISMATCH/critical']], 'findings');
      x.eq(r.status, 'critical', 'domain status');
      hostsProbedOk(r.hosts, x.ok);
      return { failures: x.failures, summary: r.hosts[0]?.findings[0]?.message ?? 'no finding' };
    },
  },
  {
    name: 'MTA-STS: a policy host whose certificate is for another name is MTA_STS_UNAVAILABLE naming the certificate',
    async run(env) {
      const { report: r } = await env.check('stscert.test', { policyPort: env.policy.badCertPort });
      const x = expectations();
      x.eq([r.mtaSts.state, r.mtaSts.id], ['unavailable', 'cert1'], 'MTA-STS state and id');
      x.eq(r.findings.map((f) => `${f.code}/${f.severity}`), ['MTA_STS_UNAVAILABLE/warning'], 'domain findings');
      x.ok(/ALTNAME|altnames|certificate/i.test(r.findings[0]?.message ?? ''), `the finding names the certificate: ${r.findings[0]?.message}`);
      x.eq(r.status, 'warning', 'domain status');
      hostsProbedOk(r.hosts, x.ok);
      return { failures: x.failures, summary: r.findings[0]?.message ?? 'no finding' };
    },
  },
  {
    name: 'null MX: NULL_MX (note), nothing probed, no MTA-STS lookup',
    async run(env) {
      const { report: r, queries } = await env.check('nullmx.test');
      const x = expectations();
      x.eq([r.source, r.hosts.length, r.status], ['null-mx', 0, 'ok'], 'source, hosts, status');
      x.eq(r.findings.map((f) => `${f.code}/${f.severity}`), ['NULL_MX/note'], 'findings');
      x.ok(!queries.has('TXT _mta-sts.nullmx.test'), 'no _mta-sts lookup for a domain without mail');
      return { failures: x.failures, summary: `${queries.size} queries: ${[...queries.keys()].sort().join(', ')}` };
    },
  },
  {
    name: 'MX change between two runs: after the zone reload the new host is found and the old one is gone',
    async run(env) {
      const x = expectations();
      const first = await env.check('moving.test');
      x.eq(first.report.hosts.map((h) => h.host), [movingMx.before], 'first run MX hosts');
      const movedZone = zones(env.world, 'after').find((z) => z.name === 'moving.test')!;
      await env.dns.replaceZone(movedZone);
      const second = await env.check('moving.test');
      x.eq(second.report.hosts.map((h) => h.host), [movingMx.after], 'second run MX hosts');
      x.eq(second.report.status, 'ok', 'second run status');
      hostsProbedOk([...first.report.hosts, ...second.report.hosts], x.ok);
      return { failures: x.failures, summary: `run 1: ${first.report.hosts.map((h) => h.host).join(',')}; run 2: ${second.report.hosts.map((h) => h.host).join(',')}` };
    },
  },
  {
    name: 'parallel: 3 MX and 4 SRV services, one host silent on two ports, answer within about one probe timeout',
    async run(env) {
      const timeoutMs = 4000;
      const { report: r, ms } = await env.check('wide.test', { timeoutMs });
      const x = expectations();
      const mx = r.hosts.filter((h) => h.role === 'mx');
      const services = r.hosts.filter((h) => h.role === 'service');
      x.eq(mx.map((h) => h.host), ['mx1.wide.test', 'mx2.wide.test', 'mx3.wide.test'], 'MX hosts');
      x.eq(services.map((h) => `${h.label} ${h.host}`), ['_submissions._tcp mx1.wide.test', '_submission._tcp mx2.wide.test', '_imaps._tcp mx1.wide.test', '_pop3s._tcp mx3.wide.test'], 'SRV services');
      const silent = r.hosts.filter((h) => h.host === 'mx3.wide.test');
      hostsProbedOk(r.hosts.filter((h) => h.host !== 'mx3.wide.test'), x.ok);
      for (const h of silent) x.eq(h.results.map((res) => res.error?.code), ['TIMEOUT'], `${h.label} ${h.host}:${h.port} (silent) error`);
      x.eq(mx[0]?.dane?.state, 'match', 'DANE of mx1');
      // Two silent endpoints probed one after the other would take two timeouts.
      x.ok(ms >= timeoutMs - 100 && ms < timeoutMs * 1.5, `the check took ${ms} ms; expected about one probe timeout (${timeoutMs} ms), under ${timeoutMs * 1.5} ms`);
      return { failures: x.failures, summary: `${mx.length} MX + ${services.length} SRV, 2 silent endpoints: whole check ${ms} ms with a ${timeoutMs} ms probe timeout` };
    },
  },
  {
    name: 'DNSSEC: a zone that does not validate (DS matching no key) is DNS_FAILED naming SERVFAIL, nothing probed',
    async run(env) {
      const { report: r, queries } = await env.check('bogus.test');
      const x = expectations();
      x.eq([r.hosts.length, r.status], [0, 'critical'], 'hosts, status');
      const mx = r.findings.find((f) => f.message.startsWith('MX of bogus.test'));
      x.ok(mx?.code === 'DNS_FAILED' && /SERVFAIL/.test(mx.message), `a DNS_FAILED finding for the MX naming SERVFAIL: ${JSON.stringify(r.findings.map((f) => f.message))}`);
      return { failures: x.failures, summary: `${mx?.message ?? 'no MX finding'}; ${r.findings.length} findings, ${queries.size} names+types asked` };
    },
  },
  {
    name: 'DNS budget: Unbound received at most one query per name and type in every run',
    async run(env) {
      const x = expectations();
      const lines: string[] = [];
      for (const run of env.runs) {
        const twice = [...run.queries].filter(([, n]) => n > 1);
        x.ok(twice.length === 0, `${run.report.domain}: asked more than once: ${twice.map(([k, n]) => `${k} ×${n}`).join(', ')}`);
        x.ok(run.queries.size > 0, `${run.report.domain}: no query in Unbound's log (is log-queries on?)`);
        lines.push(`${run.report.domain} ${[...run.queries.values()].reduce((a, b) => a + b, 0)}/${run.queries.size}`);
      }
      return { failures: x.failures, summary: `queries/distinct name+type per run: ${lines.join(', ')}` };
    },
  },
];
