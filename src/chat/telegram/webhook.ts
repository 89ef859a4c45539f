// Webhook receiver for Telegram updates. Telegram sends the secret given to setWebhook in
// X-Telegram-Bot-Api-Secret-Token on every request (Bot API setWebhook `secret_token`);
// anything without it is refused with 403 before the body is read, and bodies are bounded.
import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Update } from 'telegraf/types';

/** Settings for startWebhookServer. */
export interface WebhookServerOptions {
  path: string;
  secretToken: string;
  port: number;
  host?: string;
  /** Largest accepted update in bytes (default 1 MiB). */
  maxBodyBytes?: number;
  handle(update: Update): Promise<void>;
  onError(err: unknown): void;
}

function sameSecret(given: string | string[] | undefined, expected: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

async function readBody(req: IncomingMessage, max: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Starts the HTTP server Telegram posts updates to; resolves once it listens. */
export async function startWebhookServer(o: WebhookServerOptions): Promise<Server> {
  const max = o.maxBodyBytes ?? 1024 * 1024;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'POST' || path !== o.path) {
      res.writeHead(404).end();
      return;
    }
    if (!sameSecret(req.headers['x-telegram-bot-api-secret-token'], o.secretToken)) {
      res.writeHead(403).end();
      req.resume();
      return;
    }
    void (async () => {
      const body = await readBody(req, max);
      if (body === null) {
        res.writeHead(413, { connection: 'close' }).end();
        req.destroy();
        return;
      }
      let update: Update;
      try {
        update = JSON.parse(body.toString('utf8')) as Update;
        if (typeof update !== 'object' || update === null || typeof update.update_id !== 'number') throw new Error('not an update');
      } catch {
        res.writeHead(400).end();
        return;
      }
      // Handlers return quickly (work runs in the background), so Telegram gets its 200
      // after the update is accepted and will redeliver if we crash before that.
      await o.handle(update);
      res.writeHead(200).end();
    })().catch((err: unknown) => {
      o.onError(err);
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
