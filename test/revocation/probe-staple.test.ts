import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { createServer, type Server } from 'node:tls';
import { TrustStore } from '../../src/cert/trust.ts';
import { HttpClient } from '../../src/net/http-client.ts';
import { Prober } from '../../src/probe/probe.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { Revocation } from '../../src/revocation/index.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { revocationPki, type Made, type RevocationPki } from '../helpers/revocation-pki.ts';

let pki: RevocationPki;
const servers: Server[] = [];

before(async () => {
  pki = await revocationPki();
});
after(async () => {
  for (const s of servers) s.close();
  await pki.close();
});

async function serve(leaf: Made, staple: Buffer | null): Promise<number> {
  const s = createServer({ cert: leaf.pem + pki.inter.pem, key: leaf.keyPem });
  // Node asks the server for a staple through this event; with no listener nothing is stapled.
  if (staple !== null) s.on('OCSPRequest', (_c: Buffer, _i: Buffer, cb: (err: Error | null, resp?: Buffer) => void) => cb(null, staple));
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  servers.push(s);
  return (s.address() as AddressInfo).port;
}

const prober = (): Prober =>
  new Prober({
    trust: TrustStore.fromPem(pki.root.pem, 'test root'),
    revocation: new Revocation({ http: new HttpClient({ addressPolicy: createAddressPolicy({ allowCidrs: ['127.0.0.1/32'] }) }) }),
  });
const opts = { timeoutMs: 5000, warnDays: 0, critDays: 0 };

test('probe: a server stapling a revoked response is REVOKED (critical) from the staple', async () => {
  const port = await serve(pki.revoked, pki.ocspFor(pki.revoked));
  const [r] = await prober().probe(parseTarget(`127.0.0.1:${port}`, { servername: 'revoke.test' }), opts);
  assert.equal(r?.status, 'critical', JSON.stringify(r?.problems));
  assert.match(r?.problems.find((p) => p.code === 'REVOKED')?.message ?? '', /stapled OCSP response/);
});

test('probe: a server stapling nothing is checked through the responder; a good certificate is ok', async () => {
  const port = await serve(pki.good, null);
  const [r] = await prober().probe(parseTarget(`127.0.0.1:${port}`, { servername: 'revoke.test' }), opts);
  assert.equal(r?.status, 'ok', JSON.stringify(r?.problems));
});

test('probe: revocation: false (--no-revocation) asks nobody', async () => {
  const port = await serve(pki.revoked, null);
  const before = pki.hits.get('/ocsp') ?? 0;
  const [r] = await prober().probe(parseTarget(`127.0.0.1:${port}`, { servername: 'revoke.test' }), { ...opts, revocation: false });
  assert.equal(r?.status, 'ok', JSON.stringify(r?.problems));
  assert.equal(pki.hits.get('/ocsp') ?? 0, before);
});
