// A fake SMTP server that offers STARTTLS and hands over to TLS with given credentials,
// and a fake HTTPS server for MTA-STS policies; both on 127.0.0.1 port 0.
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startFakeServer, type FakeServer, type FakeTls } from './fake-server.ts';

/** An SMTP server speaking just enough ESMTP to reach STARTTLS; `onSni` gets the SNI each client sent. */
export function startSmtpTls(tls: FakeTls, name = 'mx.example.test', onSni?: (sni: string | false) => void): Promise<FakeServer> {
  return startFakeServer(async (conn) => {
    conn.write(`220 ${name} ESMTP fake\r\n`);
    await conn.readLine();
    conn.write(`250-${name}\r\n250-PIPELINING\r\n250 STARTTLS\r\n`);
    await conn.readLine();
    conn.write('220 2.0.0 Ready to start TLS\r\n');
    const secure = conn.startTls(tls);
    // Node types TLSSocket.servername only on the client side; the server side sets it too.
    if (onSni !== undefined) secure.once('secure', () => onSni((secure as unknown as { servername: string | false }).servername));
  });
}

/** A running policy server; `body`/`status`/`type` may be changed between requests. */
export interface FakePolicyServer {
  port: number;
  requests: number;
  body: string;
  status: number;
  type: string;
  close(): Promise<void>;
}

export async function startPolicyServer(tls: FakeTls, body: string): Promise<FakePolicyServer> {
  const state = { port: 0, requests: 0, body, status: 200, type: 'text/plain; charset=utf-8' };
  const server = createHttpsServer({ key: tls.key, cert: tls.cert }, (req, res) => {
    state.requests++;
    if (req.url !== '/.well-known/mta-sts.txt') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(state.status, { 'content-type': state.type, ...(state.status === 302 ? { location: 'https://evil.test/' } : {}) });
    res.end(state.body);
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  });
}
