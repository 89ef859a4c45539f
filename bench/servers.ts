// Benchmark servers, run in a child process so that their CPU is not counted against the
// probes measured in the parent. Sends {implicitPort, smtpPort, implicitPorts, smtpPorts,
// rootPem} over IPC, then serves until the parent disconnects. Each kind listens on PORTS
// ports (the same handler): a long run spreads its connections over them, so no single
// address:port pair runs out of ephemeral client ports (TIME_WAIT) on loopback.
import { createServer as createNetServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket, createSecureContext, createServer as createTlsServer } from 'node:tls';
import { testPki } from '../test/helpers/pki.ts';

/** What the parent receives once the servers listen. */
export interface BenchServers {
  implicitPort: number;
  smtpPort: number;
  /** Every port of each kind (the first is implicitPort / smtpPort). */
  implicitPorts: number[];
  smtpPorts: number[];
  rootPem: string;
}

const PORTS = 8;

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

const implicitPorts: number[] = [];
const smtpPorts: number[] = [];
for (let i = 0; i < PORTS; i++) {
  // tls.Server and net.Server: a second listen() on one server object is not possible, so
  // the extra ports get their own server objects with the same handlers.
  const tlsServer = i === 0 ? implicit : createTlsServer(pki.serverCreds, (tls) => {
    tls.on('error', () => {});
    tls.end();
  });
  if (i > 0) {
    tlsServer.on('tlsClientError', () => {});
    tlsServer.on('connection', (s: Socket) => s.on('error', () => {}));
  }
  implicitPorts.push(await listen(tlsServer as unknown as Server));
  const smtpServer = i === 0 ? smtp : createNetServer(smtp.listeners('connection')[0] as (s: Socket) => void);
  smtpPorts.push(await listen(smtpServer));
}
const ready: BenchServers = {
  implicitPort: implicitPorts[0]!,
  smtpPort: smtpPorts[0]!,
  implicitPorts,
  smtpPorts,
  rootPem: pki.root.certPem,
};
process.send?.(ready);
process.on('disconnect', () => process.exit(0));
