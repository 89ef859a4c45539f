// Measurement, not a test: CPU to read a 200-entry CRL with certwatch's bounded reader vs @peculiar/x509's X509Crl (docs/judge.md).
// Usage: node test/cert/measure-crl-parse.ts
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { parseCrl } from '../../src/cert/crl.ts';
import { makeCa, makeLeaf, makeCrl } from '../helpers/pki.ts';
const ca = await makeCa(); const leaves = []; for (let i = 0; i < 200; i++) leaves.push({ cert: await makeLeaf(ca, { name: 'l' + i }), reason: 1 });
const der = await makeCrl(ca, { revoked: leaves });
const time = (f: () => unknown) => { for (let i = 0; i < 200; i++) f(); const t = process.cpuUsage(); for (let i = 0; i < 2000; i++) f(); const d = process.cpuUsage(t); return ((d.user + d.system) / 2000).toFixed(1) + ' us'; };
console.log('CRL of 200 entries,', der.length, 'bytes');
console.log('ours parseCrl:', time(() => parseCrl(der)));
console.log('@peculiar X509Crl:', time(() => { const c = new x509.X509Crl(new Uint8Array(der)); return c.entries.map((e) => e.reason); }));
const bad = Buffer.from(der); bad[5] = bad[5]! ^ 0xff;
try { new x509.X509Crl(new Uint8Array(bad)); console.log('peculiar accepted corrupted'); } catch (e) { console.log('peculiar throws on corruption:', (e as Error).message.slice(0, 80)); }
const c = new x509.X509Crl(new Uint8Array(der)); console.log('verify returns', Object.prototype.toString.call(c.verify({ publicKey: ca.cert.publicKey } as never)));
