// Revocation cost per probe, with and without the Revocation service, in one run: 10,000
// judgements of chains from 5 CAs' leaves against a loopback OCSP responder (openssl) and
// caIssuers server. Prints fetches made (each answer once per CA and serial, then cached) and
// the CPU time of the judge step with / without revocation. This times the judge step only;
// the probe's network time (not measured here) only shrinks the ratio.
import { TrustStore } from '../src/cert/trust.ts';
import { judge } from '../src/cert/judge.ts';
import { HttpClient } from '../src/net/http-client.ts';
import { Revocation } from '../src/revocation/index.ts';
import { createAddressPolicy } from '../src/security/address-policy.ts';
import { revocationPki } from '../test/helpers/revocation-pki.ts';

const N = Number(process.argv[2] ?? 10_000);
const pki = await revocationPki();
const trust = TrustStore.fromPem(pki.root.pem, 'bench root');
const chains = [[pki.good.der, pki.inter.der], [pki.revoked.der, pki.inter.der], [pki.good.der]];
const input = (i: number) => ({ chain: chains[i % chains.length]!, tlsVersion: 'TLSv1.3', expectedName: 'revoke.test', now: new Date(), warnDays: 30, critDays: 7 });
const service = new Revocation({ http: new HttpClient({ addressPolicy: createAddressPolicy({ allowCidrs: ['127.0.0.1/32'] }) }) });

let t = performance.now();
for (let i = 0; i < N; i++) judge(input(i), trust);
const plainMs = performance.now() - t;
t = performance.now();
// 20 at a time, like CHECK_CONCURRENCY.
for (let i = 0; i < N; i += 20) await Promise.all(Array.from({ length: Math.min(20, N - i) }, (_, k) => service.judge({ judge: input(i + k), trust, staple: null })));
const revMs = performance.now() - t;
const fetches = [...pki.hits.values()].reduce((a, b) => a + b, 0);
console.log(JSON.stringify({ judgements: N, plainMs: Math.round(plainMs), withRevocationMs: Math.round(revMs), perProbeExtraMs: +((revMs - plainMs) / N).toFixed(3), fetches: Object.fromEntries(pki.hits), totalFetches: fetches }));
await pki.close();
