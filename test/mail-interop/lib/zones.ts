// The test zones: one zone per mail domain the suite checks, each a direct child of `test.`,
// so one wildcard SAN per zone (`*.<zone>`) makes the interop leaf valid for every MX and
// mta-sts host name. All are DNSSEC-signed by Knot except `unsigned.test`.

/** One zone as Knot loads it. */
export interface Zone {
  name: string;
  signed: boolean;
  /** Unbound gets a DS matching none of the zone's keys: every answer is bogus (SERVFAIL). */
  brokenAnchor?: boolean;
  /** Zone-file lines below the SOA and NS, names relative to the apex. */
  records: string[];
}

/** What the records point at: digests of the served certificates and the ports of the SRV services. */
export interface World {
  /** SHA-256 of the valid leaf's SPKI (3 1 1 that matches). */
  leafSpki: string;
  /** SHA-256 of the intermediate's SPKI (2 1 1 that matches: the intermediate is sent). */
  intermediateSpki: string;
  /** SHA-256 of another key's SPKI (3 1 1 that does not match). */
  otherSpki: string;
  /** SHA-256 of the root's SPKI (2 1 1 that does not match: the root is never sent). */
  rootSpki: string;
  ports: { submissions: number; submission: number; imaps: number; silentPop3s: number };
}

/** Every test zone, in the order zones() lists them (the re-issued leaf covers `*.<name>`). */
export const zoneNames = ['dane.test', 'unsigned.test', 'stsok.test', 'stsbad.test', 'stscert.test', 'nullmx.test', 'moving.test', 'wide.test', 'bogus.test'] as const;

/** The MX set of moving.test before and after the change between two runs. */
export const movingMx = { before: 'old.moving.test', after: 'new.moving.test' } as const;

const host = (name: string): string => `${name} A 127.0.0.1`;
const tlsa = (mx: string, rec: string): string => `_25._tcp.${mx} TLSA ${rec}`;
const sts = (id: string): string[] => [`_mta-sts TXT "v=STSv1; id=${id}"`, host('mta-sts'), `_smtp._tls TXT "v=TLSRPTv1; rua=mailto:tlsrpt@example.net"`];

/** Every zone; `movingStep` picks the MX set of moving.test. */
export function zones(w: World, movingStep: 'before' | 'after' = 'before'): Zone[] {
  const moving = movingMx[movingStep].split('.')[0]!;
  return [
    {
      name: 'dane.test',
      signed: true,
      records: [
        '@ MX 10 ee-ok', '@ MX 20 ta-ok', '@ MX 30 ee-bad', '@ MX 40 ta-bad',
        ...['ee-ok', 'ta-ok', 'ee-bad', 'ta-bad'].map(host),
        tlsa('ee-ok', `3 1 1 ${w.leafSpki}`),
        tlsa('ta-ok', `2 1 1 ${w.intermediateSpki}`),
        tlsa('ee-bad', `3 1 1 ${w.otherSpki}`),
        tlsa('ta-bad', `2 1 1 ${w.rootSpki}`),
      ],
    },
    // The same matching record as dane.test's ee-ok, but without signatures: no AD bit.
    { name: 'unsigned.test', signed: false, records: ['@ MX 10 mx', host('mx'), tlsa('mx', `3 1 1 ${w.leafSpki}`)] },
    { name: 'stsok.test', signed: true, records: ['@ MX 10 mx1', '@ MX 20 mx2', host('mx1'), host('mx2'), ...sts('ok1')] },
    { name: 'stsbad.test', signed: true, records: ['@ MX 10 mx1', host('mx1'), ...sts('bad1')] },
    { name: 'stscert.test', signed: true, records: ['@ MX 10 mx1', host('mx1'), ...sts('cert1')] },
    { name: 'nullmx.test', signed: true, records: ['@ MX 0 .'] },
    { name: 'moving.test', signed: true, records: [`@ MX 10 ${moving}`, host('old'), host('new')] },
    {
      name: 'wide.test',
      signed: true,
      records: [
        '@ MX 10 mx1', '@ MX 20 mx2', '@ MX 30 mx3',
        host('mx1'), host('mx2'), host('mx3'),
        tlsa('mx1', `3 1 1 ${w.leafSpki}`),
        `_submissions._tcp SRV 0 1 ${w.ports.submissions} mx1`,
        `_submission._tcp SRV 0 1 ${w.ports.submission} mx2`,
        `_imaps._tcp SRV 0 1 ${w.ports.imaps} mx1`,
        // mx3 is the silent host: its SMTP port and its POP3S port accept and say nothing.
        `_pop3s._tcp SRV 0 1 ${w.ports.silentPop3s} mx3`,
      ],
    },
    { name: 'bogus.test', signed: true, brokenAnchor: true, records: ['@ MX 10 mx1', host('mx1'), ...sts('bogus1')] },
  ];
}

/** The zone file text; the serial tells Knot a reload has new content. */
export function zoneFile(z: Zone, serial: number): string {
  return [
    `$ORIGIN ${z.name}.`,
    '$TTL 300',
    `@ SOA ns hostmaster ${serial} 3600 600 86400 60`,
    '@ NS ns',
    host('ns'),
    ...z.records,
    '',
  ].join('\n');
}
