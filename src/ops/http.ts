// The operations endpoint: GET /healthz and GET /metrics, nothing else.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.ts';
import type { Metrics } from './metrics.ts';

/** Health as reported by /healthz. */
export interface Health {
  ok: boolean;
  checks: Record<string, string>;
}

/** A running ops server. */
export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

/** The ops server cannot listen: names the setting to change (the bot exits 78, EX_CONFIG). */
export class OpsListenError extends Error {
  readonly setting: 'HTTP_PORT' | 'HTTP_HOST';
  constructor(setting: 'HTTP_PORT' | 'HTTP_HOST', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpsListenError';
    this.setting = setting;
  }
}

function listenError(err: NodeJS.ErrnoException, host: string, port: number): OpsListenError {
  const code = err.code ?? 'error';
  const where = `the /healthz and /metrics server (HTTP_HOST ${host}, HTTP_PORT ${port})`;
  if (code === 'EADDRINUSE') return new OpsListenError('HTTP_PORT', `${where} cannot start: port ${port} is already in use; choose another HTTP_PORT, or leave it unset to run without the server`, { cause: err });
  if (code === 'EACCES') return new OpsListenError('HTTP_PORT', `${where} cannot start: port ${port} needs privileges this process lacks; choose a port above 1023`, { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return new OpsListenError('HTTP_HOST', `${where} cannot start: ${host} does not resolve (${code})`, { cause: err });
  if (code === 'EADDRNOTAVAIL') return new OpsListenError('HTTP_HOST', `${where} cannot start: ${host} is not an address of this machine`, { cause: err });
  return new OpsListenError('HTTP_PORT', `${where} cannot start (${code})`, { cause: err });
}

/** Starts the ops HTTP server; `health` must answer quickly (it is time-boxed anyway). */
export async function startOpsServer(opts: { host: string; port: number; metrics: Metrics; health: () => Promise<Health>; log: Logger }): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    const fail = (err: unknown): void => {
      opts.log.error({ err, path }, 'http.failed');
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('internal error\n');
    };
    if (path === '/healthz') {
      withTimeout(opts.health(), 3000)
        .catch((err: unknown): Health => ({ ok: false, checks: { health: err instanceof Error ? err.message : String(err) } }))
        .then((h) => {
          res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ status: h.ok ? 'ok' : 'unhealthy', checks: h.checks }));
        })
        .catch(fail);
      return;
    }
    if (path === '/metrics') {
      opts.metrics
        .text()
        .then(({ contentType, body }) => {
          res.writeHead(200, { 'content-type': contentType });
          res.end(body);
        })
        .catch(fail);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 15_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(listenError(err, opts.host, opts.port)));
    server.listen(opts.port, opts.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  opts.log.info({ host: opts.host, port }, 'http.listening');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
