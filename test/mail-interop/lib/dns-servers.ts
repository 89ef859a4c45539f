// The DNS side of the suite: Knot serving the test zones (signed with keys made by keymgr
// before knotd starts, so the trust anchors are known up front) and Unbound validating them
// with those anchors, logging every query it receives (the per-run query budget is counted
// from that log).
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DnsClient } from '../../../src/dns/client.ts';
import type { DnsServer } from '../../../src/dns/types.ts';
import { delay, waitForPorts, type Processes } from '../../interop/lib/procs.ts';
import { run } from '../../interop/lib/run.ts';
import { zoneFile, type Zone } from './zones.ts';

/** The running authoritative server and resolver. */
export interface Dns {
  /** Unbound: what certwatch asks. */
  resolver: DnsServer;
  /** Replaces a zone's content, reloads it in Knot and drops it from Unbound's cache. */
  replaceZone(zone: Zone): Promise<void>;
  /** Byte offset of the end of Unbound's query log, to count one run's queries from. */
  logMark(): number;
  /** Queries Unbound received since `mark`, as `TYPE name` → count. */
  queriesSince(mark: number): Map<string, number>;
}

async function must(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args, 30_000);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return r.stdout;
}

function knotConf(dir: string, port: number, zones: Zone[]): string {
  return `server:
  rundir: "${dir}"
  listen: 127.0.0.1@${port}
  udp-workers: 1
  tcp-workers: 1
  background-workers: 1
log:
  - target: stdout
    any: info
database:
  storage: "${dir}/db"
control:
  listen: "${dir}/knot.sock"
# The keys are made by keymgr before the start; knotd signs with them and rolls nothing.
policy:
  - id: manual
    manual: on
template:
  - id: default
    storage: "${dir}/zones"
    file: "%s.zone"
    zonefile-sync: -1
    journal-content: none
zone:
${zones.map((z) => `  - domain: ${z.name}\n${z.signed ? '    dnssec-signing: on\n    dnssec-policy: manual\n' : ''}`).join('')}`;
}

function unboundConf(dir: string, port: number, controlPort: number, knotPort: number, zones: Zone[]): string {
  return `server:
  username: ""
  chroot: ""
  directory: "${dir}"
  pidfile: "${dir}/unbound.pid"
  logfile: "${dir}/queries.log"
  use-syslog: no
  interface: 127.0.0.1
  port: ${port}
  do-ip6: no
  num-threads: 1
  # Knot listens on loopback, which Unbound refuses to query by default.
  do-not-query-localhost: no
  access-control: 127.0.0.0/8 allow
  # One line per query received: the suite counts them per name and type.
  log-queries: yes
  verbosity: 1
  val-log-level: 2
  trust-anchor-file: "${dir}/anchors.txt"
  trust-anchor-signaling: no
  # Unbound answers NXDOMAIN for the special-use name test. (RFC 6761) unless told otherwise.
  local-zone: "test." nodefault
${zones.map((z) => `stub-zone:\n  name: "${z.name}"\n  stub-addr: 127.0.0.1@${knotPort}\n`).join('')}remote-control:
  control-enable: yes
  control-interface: 127.0.0.1
  control-port: ${controlPort}
  control-use-cert: no
`;
}

/** Starts Knot and Unbound under `<runDir>/dns`; both are stopped with the other daemons. */
export async function startDns(runDir: string, procs: Processes, zones: Zone[]): Promise<Dns> {
  const dir = join(runDir, 'dns');
  mkdirSync(join(dir, 'zones'), { recursive: true });
  mkdirSync(join(dir, 'db'), { recursive: true });
  const [knotPort, port, controlPort] = [await procs.port(), await procs.port(), await procs.port()];
  const knot = join(dir, 'knot.conf');
  const unbound = join(dir, 'unbound.conf');
  writeFileSync(knot, knotConf(dir, knotPort, zones));
  writeFileSync(unbound, unboundConf(dir, port, controlPort, knotPort, zones));
  const serials = new Map<string, number>();
  for (const z of zones) {
    writeFileSync(join(dir, 'zones', `${z.name}.zone`), zoneFile(z, 1));
    serials.set(z.name, 1);
  }

  // One ECDSA P-256 key per signed zone (a CSK); its DS records are Unbound's trust anchors.
  const anchors: string[] = [];
  for (const z of zones.filter((x) => x.signed)) {
    await must('keymgr', ['-c', knot, z.name, 'generate', 'algorithm=ecdsap256sha256', 'ksk=yes', 'zsk=yes']);
    const ds = await must('keymgr', ['-c', knot, z.name, 'ds']);
    // A broken anchor: the last digest digit changed, so the DS matches no DNSKEY.
    anchors.push(z.brokenAnchor === true ? ds.replace(/([0-9a-f])$/gm, (d) => (d === '0' ? '1' : '0')) : ds);
  }
  writeFileSync(join(dir, 'anchors.txt'), anchors.join(''));

  const knotd = procs.spawn({ name: 'knotd', cmd: '/usr/sbin/knotd', args: ['-c', knot] });
  await waitForPorts(knotd, [knotPort]);
  await zonesLoaded({ host: '127.0.0.1', port: knotPort }, zones);
  const unboundP = procs.spawn({ name: 'unbound', cmd: '/usr/sbin/unbound', args: ['-d', '-c', unbound] });
  await waitForPorts(unboundP, [port, controlPort]);

  const log = join(dir, 'queries.log');
  return {
    resolver: { host: '127.0.0.1', port },
    async replaceZone(zone) {
      const serial = (serials.get(zone.name) ?? 1) + 1;
      serials.set(zone.name, serial);
      writeFileSync(join(dir, 'zones', `${zone.name}.zone`), zoneFile(zone, serial));
      // -b: wait until Knot has loaded (and re-signed) the new content.
      await must('knotc', ['-c', knot, '-b', 'zone-reload', zone.name]);
      await must('unbound-control', ['-c', unbound, 'flush_zone', zone.name]);
    },
    logMark: () => statSync(log).size,
    queriesSince(mark) {
      const counts = new Map<string, number>();
      for (const line of readFileSync(log).subarray(mark).toString('utf8').split('\n')) {
        // "[1795981884] unbound[7215:0] info: 127.0.0.1 mx1.dane.test. A IN"
        const m = / info: 127\.0\.0\.1 (\S+)\. (\S+) IN$/.exec(line);
        if (m !== null) counts.set(`${m[2]} ${m[1]!.toLowerCase()}`, (counts.get(`${m[2]} ${m[1]!.toLowerCase()}`) ?? 0) + 1);
      }
      return counts;
    },
  };
}

/** Knot listens before it has loaded and signed its zones: ask it directly until each answers. */
async function zonesLoaded(knot: DnsServer, zones: Zone[], timeoutMs = 30_000): Promise<void> {
  const client = new DnsClient({ servers: [knot], timeoutMs: 1000, attemptMs: 500 });
  const deadline = Date.now() + timeoutMs;
  for (const z of zones) {
    for (;;) {
      const r = await client.query(z.name, 'MX');
      if (r.ok) break;
      if (Date.now() > deadline) throw new Error(`knotd: zone ${z.name} not served after ${timeoutMs} ms (last: ${r.message})`);
      await delay(100);
    }
  }
}
