// Benchmark servers, run in a child process so that their CPU is not counted against the
// probes measured in the parent. Sends {implicitPort, smtpPort, rootPem} over IPC, then
// serves until the parent disconnects.
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, createServer as createTlsServer } from 'node:tls';
import { testPki } from '../test/helpers/pki.ts';

/** What the parent receives once the servers listen. */
export interface BenchServers {
  implicitPort: number;
  smtpPort: number;
  rootPem: string;
}

const pki = await testPki();
const context = createSecureContext(pki.serverCreds);

// tls.Server builds its one shared context from key/cert (it ignores a `secureContext` option).
const implicit = createTlsServer(pki.serverCreds, (tls) => {
  tls.on('error', () => {});
  tls.end();
});
implicit.on('tlsClientError', () => {});
implicit.on('connection', (s: Socket) => s.on('error', () => {}));

/** Minimal RFC 5321/3207 server: greeting, EHLO with STARTTLS, 220, then TLS on one shared context. */
const smtp = createNetServer((socket) => {
  socket.on('error', () => {});
  let buf = '';
  const onData = (chunk: Buffer): void => {
    buf += chunk.toString('latin1');
    if (buf.length > 4096) return void socket.destroy();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '').toUpperCase();
      buf = buf.slice(i + 1);
      if (line.startsWith('EHLO')) {
        socket.write('250-bench.test\r\n250-SIZE 1000000\r\n250 STARTTLS\r\n');
      } else if (line === 'STARTTLS') {
        socket.off('data', onData);
        socket.write('220 2.0.0 ready to start TLS\r\n');
        const tls = new TLSSocket(socket, { isServer: true, secureContext: context });
        tls.on('error', () => {});
        tls.on('secure', () => tls.end());
        return;
      } else if (line === 'QUIT') {
        socket.end('221 bye\r\n');
        return;
      } else {
        socket.write('502 5.5.1 not implemented\r\n');
      }
    }
  };
  socket.on('data', onData);
  socket.write('220 bench.test ESMTP\r\n');
});

function listen(server: Server): Promise<number> {
  // A deep backlog: the benchmark opens up to a few hundred connections at once.
  return new Promise((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 2048 }, () => resolve((server.address() as AddressInfo).port)));
}

const ready: BenchServers = {
  implicitPort: await listen(implicit as unknown as Server),
  smtpPort: await listen(smtp),
  rootPem: pki.root.certPem,
};
process.send?.(ready);
process.on('disconnect', () => process.exit(0));
