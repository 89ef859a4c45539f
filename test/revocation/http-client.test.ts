import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { FetchError, HttpClient } from '../../src/net/http-client.ts';
import { ExpiringCache } from '../../src/revocation/cache.ts';
import { fetchCrl, type FetchedCrl } from '../../src/revocation/crl.ts';
import { createAddressPolicy } from '../../src/security/address-policy.ts';
import { revocationPki, type RevocationPki } from '../helpers/revocation-pki.ts';

let server: Server;
let base: string;
let pki: RevocationPki;
let crlDer: Buffer;
let crlHits = 0;

before(async () => {
  pki = await revocationPki();
  crlDer = await pki.crl([pki.revoked], 3_600_000);
  server = createServer((req, res) => {
    const url = req.url ?? '';
    if (url === '/ok') res.writeHead(200).end('hello');
    else if (url === '/big-declared') res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000));
    else if (url === '/big-chunked') {
      res.writeHead(200);
      const t = setInterval(() => res.write(Buffer.alloc(1000)), 5);
      res.on('close', () => clearInterval(t));
    } else if (url === '/slow') res.writeHead(200).write('x');
    else if (url === '/loop') res.writeHead(302, { location: '/loop' }).end();
    else if (url === '/to-ok') res.writeHead(301, { location: '/ok' }).end();
    else if (url === '/to-metadata') res.writeHead(302, { location: 'http://metadata.test/latest/' }).end();
    else if (url === '/crl') {
      crlHits++;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/pkix-crl' }).end(crlDer), 50);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  server.close();
  await pki.close();
});

const policy = createAddressPolicy({ allowCidrs: ['127.0.0.1/32'] });
const resolve = async (host: string) => (host === 'metadata.test' ? [{ address: '169.254.169.254', family: 4 as const }] : [{ address: '127.0.0.1', family: 4 as const }]);
const client = (o: { timeoutMs?: number; maxBytes?: number } = {}) => new HttpClient({ addressPolicy: policy, resolve, timeoutMs: o.timeoutMs ?? 2000, maxBytes: o.maxBytes ?? 4096, maxRedirects: 3 });
const failsWith = async (p: Promise<unknown>, code: string): Promise<FetchError> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FetchError, String(err));
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected ${code}`);
};

test('http: fetches a body and follows a redirect', async () => {
  assert.equal((await client().fetch(`${base}/ok`)).body.toString(), 'hello');
  const r = await client().fetch(`${base}/to-ok`);
  assert.equal(r.body.toString(), 'hello');
  assert.match(r.url, /\/ok$/);
});

test('http: a body over the cap is TOO_LARGE, declared or streamed', async () => {
  await failsWith(client().fetch(`${base}/big-declared`), 'TOO_LARGE');
  await failsWith(client().fetch(`${base}/big-chunked`), 'TOO_LARGE');
});

test('http: a server that stalls is TIMEOUT at the deadline', async () => {
  const t0 = Date.now();
  await failsWith(client({ timeoutMs: 300 }).fetch(`${base}/slow`), 'TIMEOUT');
  assert.ok(Date.now() - t0 < 1500);
});

test('http: redirect loops stop at the redirect limit', async () => {
  await failsWith(client().fetch(`${base}/loop`), 'TOO_MANY_REDIRECTS');
});

test('ssrf: a redirect to a blocked address is refused before connecting', async () => {
  const e = await failsWith(client().fetch(`${base}/to-metadata`), 'BLOCKED');
  assert.match(e.message, /cloud metadata/);
});

test('ssrf: a CRL URL whose name resolves to a blocked address is BLOCKED', async () => {
  const strict = new HttpClient({ addressPolicy: createAddressPolicy(), resolve });
  const e = await failsWith(strict.fetch('http://crl.example.test/ca.crl'), 'BLOCKED');
  assert.match(e.message, /loopback/);
});

test('http: only http URLs are fetched', async () => {
  await failsWith(client().fetch('https://127.0.0.1/x'), 'BAD_URL');
  await failsWith(client().fetch('ldap://127.0.0.1/cn=x'), 'BAD_URL');
});

test('crl: 200 concurrent requests for one URL fetch it once and cache it until nextUpdate', async () => {
  const cache = new ExpiringCache<FetchedCrl>();
  const c = client({ maxBytes: 1 << 20 });
  const url = `${base}/crl`;
  const got = await Promise.all(Array.from({ length: 200 }, () => cache.get(url, () => fetchCrl(c, url, Date.now()))));
  assert.equal(crlHits, 1);
  assert.equal(cache.loads, 1);
  assert.ok(got.every((b) => b === got[0] && b.der.equals(crlDer)));
  await cache.get(url, () => fetchCrl(c, url, Date.now()));
  assert.equal(crlHits, 1);
});

test('crl: a body that is not a CRL is a typed failure', async () => {
  await failsWith(fetchCrl(client(), `${base}/ok`, Date.now()), 'NETWORK');
});
