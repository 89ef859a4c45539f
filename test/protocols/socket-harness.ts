// Runs a dialect over a real loopback socket, as the Prober does, keeping the socket so a
// test can go on to the TLS handshake. Shared by the binary and XML dialect tests.
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { ProbeError } from '../../src/probe/errors.ts';
import type { Dialect } from '../../src/probe/protocols/types.ts';
import { SocketIO } from '../../src/probe/reader.ts';
import { startFakeServer, type FakeConn, type FakeServer } from '../helpers/fake-server.ts';

/** How a dialect run ended: its error (if any), unread bytes and the still-open socket. */
export interface Outcome {
  error: ProbeError | null;
  rest: Buffer;
  socket: Socket;
}

/** Deadline for runs expected to end in TIMEOUT; others get room for a loaded machine. */
export const SHORT_DEADLINE_MS = 400;

/** Runs `dialect` against the server on `port` and keeps what is left. */
export async function runDialect(port: number, dialect: Dialect, timeoutMs = 3000): Promise<Outcome> {
  const socket = connect({ host: '127.0.0.1', port });
  await once(socket, 'connect');
  const io = new SocketIO(socket, 'localhost', 'localhost', AbortSignal.timeout(timeoutMs));
  let error: ProbeError | null = null;
  try {
    await dialect(io);
  } catch (err) {
    if (!(err instanceof ProbeError)) throw err;
    error = err;
  }
  const rest = io.detach();
  if (error !== null) socket.destroy();
  return { error, rest, socket };
}

/** Fake servers started by one test file, closed together in its `after` hook. */
export function serverPool(): {
  serve(script: (conn: FakeConn) => Promise<void> | void): Promise<number>;
  track(server: FakeServer): void;
  closeAll(): Promise<void>;
} {
  const servers: FakeServer[] = [];
  return {
    async serve(script) {
      const s = await startFakeServer(script);
      servers.push(s);
      return s.port;
    },
    track: (server) => void servers.push(server),
    closeAll: async () => {
      await Promise.all(servers.map((s) => s.close()));
    },
  };
}
