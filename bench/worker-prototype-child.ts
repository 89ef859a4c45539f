// Child of bench/worker-prototype.ts: TCP connect and TLS handshake per request, the chain read
// with getPeerX509Certificate() (wire order; leaks about 5 KB per handshake on Node 24), replies
// batched per event-loop turn. A measurement, not product code.
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { createProbeContext } from '../src/probe/tls.ts';

/** A request from the parent: probe `port`, or report this process's CPU and RSS. */
export type WorkerRequest = { id: number; op: 'probe'; port: number } | { id: number; op: 'usage' };
export type WorkerReply = { id: number; chain: Buffer[]; version: string } | { id: number; error: string } | { id: number; cpuMs: number; rssBytes: number };

const context = createProbeContext();
let outbox: WorkerReply[] = [];
const reply = (m: WorkerReply): void => {
  if (outbox.length === 0) setImmediate(() => {
    const batch = outbox;
    outbox = [];
    process.send?.(batch);
  });
  outbox.push(m);
};

process.on('message', (batch: WorkerRequest[]) => {
  for (const m of batch) {
    if (m.op === 'usage') {
      const u = process.cpuUsage();
      reply({ id: m.id, cpuMs: (u.user + u.system) / 1000, rssBytes: process.memoryUsage().rss });
      continue;
    }
    const socket = netConnect({ host: '127.0.0.1', port: m.port });
    socket.once('error', (err) => reply({ id: m.id, error: err.message }));
    socket.once('connect', () => {
      socket.setNoDelay(true);
      const tls = tlsConnect({ socket, servername: 'localhost', secureContext: context, rejectUnauthorized: false });
      tls.once('error', (err) => reply({ id: m.id, error: err.message }));
      tls.once('secureConnect', () => {
        const chain: Buffer[] = [];
        for (let c = tls.getPeerX509Certificate(); c !== undefined && chain.length < 20; c = c.issuerCertificate) chain.push(c.raw);
        const version = tls.getProtocol() ?? 'unknown';
        tls.on('error', () => {});
        tls.end();
        reply({ id: m.id, chain, version });
      });
    });
  }
});
process.on('disconnect', () => process.exit(0));
