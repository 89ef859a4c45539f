// A local Slack for Bolt tests: a Web API under /api/ (auth.test, chat.postMessage,
// chat.update, chat.postEphemeral, apps.connections.open) reached through `slackApiUrl`,
// response_url endpoints under /response/, a Socket Mode WebSocket under /socket, and helpers
// that sign slash-command, interaction and event requests like Slack (v0 HMAC-SHA256).
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

/** One request the fake received: a Web API call or a response_url post. */
export interface SlackCall {
  kind: 'api' | 'response_url';
  method: string;
  /** Parsed parameters; `blocks` and `attachments` decoded from JSON. */
  params: Record<string, unknown>;
  token?: string;
}

/** A message as it now looks in a channel (after updates). */
export interface SlackMessage {
  channel: string;
  ts: string;
  params: Record<string, unknown>;
  threadTs?: string;
  ephemeralFor?: string;
}

/** An injected failure for the next call of a method. */
export type SlackFailure = { status: 429; retryAfter: number } | { status: 500 | 503 } | { error: string };

export const BOT_TOKEN = 'xoxb-1111-2222-FAKEbotTOKEN';
export const APP_TOKEN = 'xapp-1-A111-3333-FAKEappTOKEN';
export const SIGNING_SECRET = 'fake-signing-secret-0123456789';

/** The fake Slack server. */
export class FakeSlack {
  readonly calls: SlackCall[] = [];
  readonly messages: SlackMessage[] = [];
  /** Channels the bot is a member of; others answer not_in_channel. */
  readonly memberOf = new Set<string>(['C0GENERAL', 'C0OPS']);
  readonly botUserId = 'U0BOT';
  private readonly failures = new Map<string, SlackFailure[]>();
  private readonly waiters = new Set<() => void>();
  private readonly wss: WebSocketServer;
  private socket: WebSocket | undefined;
  private readonly acks = new Map<string, (payload: unknown) => void>();
  private tsCounter = 1_700_000_000;
  private responseUrlCounter = 0;

  private readonly server: Server;

  private constructor(server: Server) {
    this.server = server;
    this.wss = new WebSocketServer({ noServer: true });
    server.on('upgrade', (req, sock, head) => {
      this.wss.handleUpgrade(req, sock, head, (ws) => this.onSocket(ws));
    });
  }

  static async start(): Promise<FakeSlack> {
    const server = createServer();
    const fake = new FakeSlack(server);
    server.on('request', (req, res) => void fake.onRequest(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return fake;
  }

  get base(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** For `slackApiUrl` / SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.base}/api/`;
  }

  /** A fresh response_url for one slash command or interaction. */
  newResponseUrl(): string {
    return `${this.base}/response/r${++this.responseUrlCounter}`;
  }

  failNext(method: string, failure: SlackFailure): void {
    const list = this.failures.get(method) ?? [];
    list.push(failure);
    this.failures.set(method, list);
  }

  callsOf(method: string): SlackCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Resolves when `ready()` returns a value (checked after every request); rejects on timeout. */
  async waitFor<T>(ready: () => T | undefined | false, timeoutMs = 5000): Promise<T> {
    const deadline = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const value = ready();
      if (value !== undefined && value !== false) return value;
      if (deadline.aborted) throw new Error(`condition not met within ${timeoutMs} ms; calls: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          deadline.removeEventListener('abort', done);
          resolve();
        };
        this.waiters.add(done);
        deadline.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Pushes a Socket Mode envelope to the connected app; resolves with its ack payload. */
  async pushEnvelope(type: 'slash_commands' | 'interactive' | 'events_api', payload: Record<string, unknown>): Promise<unknown> {
    const socket = await this.waitFor(() => this.socket);
    const envelopeId = `env-${++this.responseUrlCounter}`;
    const acked = new Promise<unknown>((resolve) => this.acks.set(envelopeId, resolve));
    socket.send(JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: type !== 'events_api', retry_attempt: 0, retry_reason: '' }));
    return acked;
  }

  async close(): Promise<void> {
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  private onSocket(ws: WebSocket): void {
    this.socket = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { envelope_id?: string; payload?: unknown };
      if (msg.envelope_id !== undefined) this.acks.get(msg.envelope_id)?.(msg.payload);
    });
    ws.on('close', () => {
      if (this.socket === ws) this.socket = undefined;
    });
    ws.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'fake', approximate_connection_time: 3600 }, connection_info: { app_id: 'A111' } }));
    this.wake();
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = (req.url ?? '').split('?')[0] ?? '';
    const json = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
      this.wake();
    };
    if (url.startsWith('/response/')) {
      this.calls.push({ kind: 'response_url', method: url.slice('/response/'.length), params: JSON.parse(raw) as Record<string, unknown> });
      return json(200, { ok: true });
    }
    const m = /^\/api\/([a-zA-Z.]+)$/.exec(url);
    if (m === null) return json(404, { ok: false, error: 'not_found' });
    const method = m[1] ?? '';
    const params = parseParams(raw, String(req.headers['content-type'] ?? ''));
    const token = String(req.headers.authorization ?? '').replace(/^Bearer /, '') || (typeof params.token === 'string' ? params.token : undefined);
    this.calls.push({ kind: 'api', method, params, ...(token === undefined ? {} : { token }) });
    const failure = this.failures.get(method)?.shift();
    if (failure !== undefined) {
      if ('error' in failure) return json(200, { ok: false, error: failure.error });
      if (failure.status === 429) return json(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(failure.retryAfter) });
      return json(failure.status, { ok: false, error: 'fatal_error' });
    }
    const expected = method === 'apps.connections.open' ? APP_TOKEN : BOT_TOKEN;
    if (token !== expected) return json(200, { ok: false, error: 'invalid_auth' });
    json(200, this.dispatch(method, params));
  }

  private dispatch(method: string, p: Record<string, unknown>): Record<string, unknown> {
    switch (method) {
      case 'auth.test':
        return { ok: true, url: 'https://fake.slack.com/', team: 'Fake', user: 'certwatch', team_id: 'T111', user_id: this.botUserId, bot_id: 'B111' };
      case 'apps.connections.open':
        return { ok: true, url: `${this.base.replace('http', 'ws')}/socket` };
      case 'chat.postMessage':
      case 'chat.postEphemeral': {
        const channel = String(p.channel ?? '');
        if (!this.memberOf.has(channel)) return { ok: false, error: channel.startsWith('C') ? 'not_in_channel' : 'channel_not_found' };
        const problem = checkMessage(p);
        if (problem !== null) return { ok: false, error: problem };
        const ts = `${++this.tsCounter}.000100`;
        this.messages.push({
          channel,
          ts,
          params: p,
          ...(typeof p.thread_ts === 'string' ? { threadTs: p.thread_ts } : {}),
          ...(method === 'chat.postEphemeral' ? { ephemeralFor: String(p.user) } : {}),
        });
        return method === 'chat.postMessage' ? { ok: true, channel, ts, message: { text: p.text } } : { ok: true, message_ts: ts };
      }
      case 'chat.update': {
        const msg = this.messages.find((x) => x.channel === p.channel && x.ts === p.ts && x.ephemeralFor === undefined);
        if (msg === undefined) return { ok: false, error: 'message_not_found' };
        const problem = checkMessage(p);
        if (problem !== null) return { ok: false, error: problem };
        msg.params = p;
        return { ok: true, channel: msg.channel, ts: msg.ts, text: p.text };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

function parseParams(raw: string, contentType: string): Record<string, unknown> {
  let params: Record<string, unknown>;
  if (contentType.includes('application/json')) params = raw === '' ? {} : (JSON.parse(raw) as Record<string, unknown>);
  else params = Object.fromEntries(new URLSearchParams(raw));
  for (const key of ['blocks', 'attachments']) {
    if (typeof params[key] === 'string') params[key] = JSON.parse(params[key]);
  }
  return params;
}

/** The checks Slack applies that a renderer could get wrong (Block Kit limits). */
function checkMessage(p: Record<string, unknown>): string | null {
  const blocks = (p.blocks ?? []) as Record<string, unknown>[];
  const attachments = (p.attachments ?? []) as { blocks?: Record<string, unknown>[] }[];
  const all = [...blocks, ...attachments.flatMap((a) => a.blocks ?? [])];
  if (typeof p.text !== 'string' && all.length === 0) return 'no_text';
  if (all.length > 50) return 'invalid_blocks';
  for (const b of all) {
    const text = (b.text as { text?: string } | undefined)?.text;
    if (text !== undefined && text.length > 3000) return 'invalid_blocks';
    for (const f of (b.fields ?? []) as { text: string }[]) if (f.text.length > 2000) return 'invalid_blocks';
    if (((b.fields ?? []) as unknown[]).length > 10) return 'invalid_blocks';
    for (const e of (b.elements ?? []) as { type: string; text?: { text: string }; value?: string; action_id?: string }[]) {
      if (e.type === 'button' && ((e.text?.text.length ?? 0) > 75 || (e.value?.length ?? 0) > 2000 || e.action_id === undefined)) return 'invalid_blocks';
    }
  }
  return null;
}

/** The headers Slack sends with a request body signed by `secret`. */
export function signedHeaders(body: string, secret = SIGNING_SECRET, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

/** POSTs a form body to a Bolt HTTP receiver; returns status and response text. */
export async function postSigned(url: string, body: string, headers: Record<string, string>): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
  return { status: res.status, text: await res.text() };
}

/** The form body of a slash command invocation. */
export function slashCommandBody(fields: { text: string; channel_id?: string; user_id?: string; user_name?: string; response_url: string; command?: string }): string {
  return new URLSearchParams({
    token: 'deprecated-verification-token',
    team_id: 'T111',
    team_domain: 'fake',
    channel_id: fields.channel_id ?? 'C0GENERAL',
    channel_name: 'general',
    user_id: fields.user_id ?? 'U0ALICE',
    user_name: fields.user_name ?? 'alice',
    command: fields.command ?? '/cert',
    text: fields.text,
    api_app_id: 'A111',
    response_url: fields.response_url,
    trigger_id: '1.2.3',
  }).toString();
}

/** The block_actions payload of a button press on `message`. */
export function buttonPayload(opts: { message: SlackMessage; actionId: string; value: string; userId?: string; responseUrl: string }): Record<string, unknown> {
  return {
    type: 'block_actions',
    team: { id: 'T111', domain: 'fake' },
    user: { id: opts.userId ?? 'U0BOB', username: 'bob', name: 'bob', team_id: 'T111' },
    api_app_id: 'A111',
    token: 'deprecated-verification-token',
    container: { type: 'message_attachment', message_ts: opts.message.ts, channel_id: opts.message.channel, is_ephemeral: false, attachment_id: 1 },
    trigger_id: '1.2.4',
    channel: { id: opts.message.channel, name: 'general' },
    message: { type: 'message', ts: opts.message.ts, text: opts.message.params.text, ...(opts.message.threadTs === undefined ? {} : { thread_ts: opts.message.threadTs }) },
    response_url: opts.responseUrl,
    actions: [{ type: 'button', action_id: opts.actionId, block_id: 'b1', text: { type: 'plain_text', text: 'x' }, value: opts.value, action_ts: '1700000000.1' }],
  };
}

/** The form body of an interaction request (payload=<json>). */
export function interactionBody(payload: Record<string, unknown>): string {
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}
