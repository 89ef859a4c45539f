// A small local Bot API for telegraf tests, reached through `apiRoot`. It long-polls for
// real (getUpdates holds the request until an update arrives or the timeout passes), checks
// HTML like the real API (unknown or unbalanced tags are refused, a message may hold at most
// 4096 characters after parsing), checks callback_data <= 64 bytes, and can be told to
// answer the next call of a method with 429 + retry_after or a 5xx.
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A chat the fake knows. Unknown chat ids get "Bad Request: chat not found". */
export interface FakeChat {
  id: number;
  type: 'private' | 'group' | 'supergroup';
  title?: string;
  isForum?: boolean;
}

/** A user that sends messages or presses buttons. */
export interface FakeUser {
  id: number;
  username?: string;
  first_name?: string;
}

/** One Bot API request as received. */
export interface ApiCall {
  method: string;
  params: Record<string, unknown>;
}

/** A message the bot sent (kept current when edited). */
export interface SentMessage {
  chatId: number;
  messageId: number;
  threadId?: number;
  html: string;
  /** Text after HTML parsing, as a user would see it. */
  text: string;
  replyMarkup?: { inline_keyboard: { text: string; callback_data: string }[][] };
}

/** An injected failure for the next call of a method. */
export type Failure = { status: 429; retryAfter: number } | { status: 500 | 502 | 503 } | { status: 400 | 403; description: string };

class ApiError extends Error {
  readonly status: number;
  readonly description: string;
  readonly parameters?: Record<string, unknown>;

  constructor(
    status: number,
    description: string,
    parameters?: Record<string, unknown>,
  ) {
    super(description);
    this.status = status;
    this.description = description;
    this.parameters = parameters;
  }
}

const allowedTags = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'span', 'tg-spoiler', 'a', 'code', 'pre', 'blockquote', 'tg-emoji']);
const namedEntities: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

/**
 * Parses Telegram HTML and returns the visible text; throws like the API on bad markup. The
 * real API keeps a bare "&" literally; the fake refuses it, because text that was not escaped
 * would show "&lt;" from a server as "<" and hide an escaping bug.
 */
export function parseTelegramHtml(html: string): string {
  const stack: string[] = [];
  let text = '';
  let i = 0;
  while (i < html.length) {
    const ch = html[i];
    if (ch === '<') {
      const end = html.indexOf('>', i);
      if (end < 0) throw new ApiError(400, `Bad Request: can't parse entities: Unclosed start tag at byte offset ${i}`);
      const inner = html.slice(i + 1, end);
      if (inner.startsWith('/')) {
        const name = inner.slice(1).trim().toLowerCase();
        const open = stack.pop();
        if (open !== name) throw new ApiError(400, `Bad Request: can't parse entities: Unmatched end tag at byte offset ${i}, expected "</${open ?? ''}>", found "</${name}>"`);
      } else {
        const m = /^([a-z-]+)(\s[^]*)?$/i.exec(inner);
        const name = m?.[1]?.toLowerCase() ?? '';
        if (!allowedTags.has(name)) throw new ApiError(400, `Bad Request: can't parse entities: Unsupported start tag "${name}" at byte offset ${i}`);
        const attrs = m?.[2] ?? '';
        if (name === 'a' && !/\bhref\s*=\s*"[^"]*"/.test(attrs)) throw new ApiError(400, `Bad Request: can't parse entities: <a> needs href at byte offset ${i}`);
        if (attrs.includes('<')) throw new ApiError(400, `Bad Request: can't parse entities: Unexpected "<" in tag at byte offset ${i}`);
        stack.push(name);
      }
      i = end + 1;
    } else if (ch === '&') {
      const m = /^&(lt|gt|amp|quot|#\d{1,7}|#x[0-9a-f]{1,6});/i.exec(html.slice(i, i + 12));
      if (m === null) throw new ApiError(400, `Bad Request: can't parse entities: Character '&' is reserved at byte offset ${i}`);
      const name = (m[1] ?? '').toLowerCase();
      text += namedEntities[name] ?? String.fromCodePoint(name.startsWith('#x') ? Number.parseInt(name.slice(2), 16) : Number(name.slice(1)));
      i += m[0].length;
    } else if (ch === '>') {
      throw new ApiError(400, `Bad Request: can't parse entities: Character '>' is reserved at byte offset ${i}`);
    } else {
      text += ch;
      i++;
    }
  }
  if (stack.length > 0) throw new ApiError(400, `Bad Request: can't parse entities: Can't find end tag corresponding to start tag "${stack[stack.length - 1]}"`);
  return text;
}

/** The fake Bot API server. */
export class FakeTelegram {
  readonly calls: ApiCall[] = [];
  readonly chats = new Map<number, FakeChat & { topics: Set<number> }>();
  readonly messages: SentMessage[] = [];
  webhook: { url: string; secretToken?: string } | null = null;
  private readonly updates: Record<string, unknown>[] = [];
  private nextUpdateId = 1;
  private nextMessageId = 100;
  private readonly pollers = new Set<() => void>();
  private readonly callWaiters = new Set<() => void>();
  private readonly failures = new Map<string, (Failure | null)[]>();
  /** Methods whose calls are recorded and never answered (a silent API). */
  private readonly silenced = new Set<string>();

  private readonly server: Server;
  readonly token: string;
  readonly botUser: { id: number; username: string };
  /** Longest a getUpdates request is held, whatever timeout the client asks for. */
  private readonly maxPollMs: number;

  private constructor(
    server: Server,
    token: string,
    botUser: { id: number; username: string },
    maxPollMs: number,
  ) {
    this.server = server;
    this.maxPollMs = maxPollMs;
    this.token = token;
    this.botUser = botUser;
  }

  static async start(options: { token?: string; username?: string; maxPollMs?: number } = {}): Promise<FakeTelegram> {
    const token = options.token ?? '123456789:AAFakeSecretTokenForTestsOnly_xyz-0123';
    const server = createServer();
    const fake = new FakeTelegram(server, token, { id: Number(token.split(':')[0]), username: options.username ?? 'certwatch_test_bot' }, options.maxPollMs ?? 5000);
    server.on('request', (req, res) => void fake.onRequest(req, res));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return fake;
  }

  /** Base URL for telegraf's `apiRoot`. */
  get apiRoot(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  addChat(chat: FakeChat, topics: number[] = []): void {
    this.chats.set(chat.id, { ...chat, topics: new Set(topics) });
  }

  /** Makes the next call of `method` fail once with `failure`. */
  failNext(method: string, failure: Failure): void {
    const list = this.failures.get(method) ?? [];
    list.push(failure);
    this.failures.set(method, list);
  }

  /** Lets the next `ok` calls of `method` succeed, then fails the one after with `failure`. */
  failAfter(method: string, ok: number, failure: Failure): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < ok; i++) list.push(null);
    list.push(failure);
    this.failures.set(method, list);
  }

  /** Calls of `method` are recorded but never answered, until close() (the request hangs). */
  silence(method: string): void {
    this.silenced.add(method);
  }

  /** An update carrying a text message (with a bot_command entity when it starts with "/"). */
  messageUpdate(chatId: number, from: FakeUser, text: string, threadId?: number): Record<string, unknown> {
    const chat = this.chats.get(chatId);
    if (chat === undefined) throw new Error(`unknown chat ${chatId}`);
    const command = /^\/\S+/.exec(text);
    return {
      update_id: this.nextUpdateId++,
      message: {
        message_id: this.nextMessageId++,
        from: { is_bot: false, first_name: 'Test', ...from },
        chat: { id: chat.id, type: chat.type, ...(chat.title === undefined ? {} : { title: chat.title }), ...(chat.isForum ? { is_forum: true } : {}) },
        date: Math.floor(Date.now() / 1000),
        text,
        ...(command === null ? {} : { entities: [{ type: 'bot_command', offset: 0, length: command[0].length }] }),
        ...(threadId === undefined ? {} : { message_thread_id: threadId, is_topic_message: true }),
      },
    };
  }

  /** A user types `text` in a chat (or forum topic); the bot receives it on its next poll. */
  sendText(chatId: number, from: FakeUser, text: string, threadId?: number): void {
    this.push(this.messageUpdate(chatId, from, text, threadId));
  }

  /** A user presses an inline button on a message the bot sent. */
  pressButton(message: SentMessage, from: FakeUser, data: string): string {
    const chat = this.chats.get(message.chatId);
    if (chat === undefined) throw new Error(`unknown chat ${message.chatId}`);
    const id = `cb${this.nextUpdateId}`;
    this.push({
      update_id: this.nextUpdateId++,
      callback_query: {
        id,
        from: { is_bot: false, first_name: 'Test', ...from },
        chat_instance: 'ci1',
        data,
        message: {
          message_id: message.messageId,
          from: { id: this.botUser.id, is_bot: true, first_name: 'certwatch', username: this.botUser.username },
          chat: { id: chat.id, type: chat.type, ...(chat.isForum ? { is_forum: true } : {}) },
          date: Math.floor(Date.now() / 1000),
          text: message.text,
          ...(message.threadId === undefined ? {} : { message_thread_id: message.threadId, is_topic_message: true }),
        },
      },
    });
    return id;
  }

  push(update: Record<string, unknown>): void {
    this.updates.push(update);
    for (const wake of [...this.pollers]) wake();
  }

  /** Resolves with the first call (past or future) matching `match`; rejects after `timeoutMs`. */
  async waitForCall(match: (call: ApiCall) => boolean, timeoutMs = 5000): Promise<ApiCall> {
    const deadline = AbortSignal.timeout(timeoutMs);
    for (;;) {
      const found = this.calls.find(match);
      if (found !== undefined) return found;
      if (deadline.aborted) throw new Error(`no matching Bot API call within ${timeoutMs} ms; calls: ${this.calls.map((c) => c.method).join(', ')}`);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.callWaiters.delete(done);
          deadline.removeEventListener('abort', done);
          resolve();
        };
        this.callWaiters.add(done);
        deadline.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** Resolves once `count` messages match `match` (sent or edited into shape). */
  async waitForMessages(match: (m: SentMessage) => boolean, count = 1, timeoutMs = 5000): Promise<SentMessage[]> {
    await this.waitForCall(() => this.messages.filter(match).length >= count, timeoutMs);
    return this.messages.filter(match);
  }

  callsOf(method: string): ApiCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  async close(): Promise<void> {
    for (const wake of [...this.pollers]) wake();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const m = /^\/bot([^/]+)\/([A-Za-z]+)$/.exec((req.url ?? '').split('?')[0] ?? '');
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const reply = (status: number, body: unknown): void => {
      if (res.writableEnded) return;
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (m === null || m[1] !== this.token) return reply(401, { ok: false, error_code: 401, description: 'Unauthorized' });
    const method = m[2] ?? '';
    let params: Record<string, unknown> = {};
    const raw = Buffer.concat(chunks).toString('utf8');
    if (raw !== '') params = JSON.parse(raw) as Record<string, unknown>;
    this.calls.push({ method, params });
    for (const wake of [...this.callWaiters]) wake();
    if (this.silenced.has(method)) return;
    const failure = this.failures.get(method)?.shift();
    if (failure !== undefined && failure !== null) {
      if (failure.status === 429) {
        return reply(429, { ok: false, error_code: 429, description: `Too Many Requests: retry after ${failure.retryAfter}`, parameters: { retry_after: failure.retryAfter } });
      }
      if (failure.status >= 500) return reply(failure.status, { ok: false, error_code: failure.status, description: 'Bad Gateway' });
      return reply(failure.status, { ok: false, error_code: failure.status, description: (failure as { description: string }).description });
    }
    try {
      const result = await this.dispatch(method, params, req);
      reply(200, { ok: true, result });
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      reply(err.status, { ok: false, error_code: err.status, description: err.description, ...(err.parameters ? { parameters: err.parameters } : {}) });
    } finally {
      // A state change (sent or edited message) may satisfy a waiter.
      for (const wake of [...this.callWaiters]) wake();
    }
  }

  private async dispatch(method: string, p: Record<string, unknown>, req: IncomingMessage): Promise<unknown> {
    switch (method) {
      case 'getMe':
        return { id: this.botUser.id, is_bot: true, first_name: 'certwatch', username: this.botUser.username, can_join_groups: true, can_read_all_group_messages: false, supports_inline_queries: false };
      case 'getUpdates':
        return this.getUpdates(p, req);
      case 'deleteWebhook':
        this.webhook = null;
        return true;
      case 'setWebhook':
        if (typeof p.url !== 'string' || !p.url.startsWith('https://')) throw new ApiError(400, 'Bad Request: bad webhook: An HTTPS URL must be provided for webhook');
        this.webhook = { url: p.url, ...(typeof p.secret_token === 'string' ? { secretToken: p.secret_token } : {}) };
        return true;
      case 'setMyCommands':
        return this.setMyCommands(p);
      case 'sendMessage':
        return this.sendMessage(p);
      case 'editMessageText':
        return this.editMessageText(p);
      case 'answerCallbackQuery':
        if (typeof p.callback_query_id !== 'string') throw new ApiError(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid');
        if (typeof p.text === 'string' && p.text.length > 200) throw new ApiError(400, 'Bad Request: MESSAGE_TOO_LONG');
        return true;
      case 'sendChatAction':
        return true;
      default:
        throw new ApiError(404, 'Not Found: method not found');
    }
  }

  private async getUpdates(p: Record<string, unknown>, req: IncomingMessage): Promise<unknown> {
    if (this.webhook !== null) throw new ApiError(409, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first");
    const offset = typeof p.offset === 'number' ? p.offset : 0;
    // Bot API: an offset confirms (forgets) every update before it.
    while (this.updates.length > 0 && Number(this.updates[0]?.update_id) < offset) this.updates.shift();
    const limit = typeof p.limit === 'number' ? p.limit : 100;
    const timeoutMs = Math.min(this.maxPollMs, (typeof p.timeout === 'number' ? p.timeout : 0) * 1000);
    if (this.updates.length === 0 && timeoutMs > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.pollers.delete(done);
          req.socket.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, timeoutMs);
        this.pollers.add(done);
        req.socket.once('close', done);
      });
    }
    return this.updates.slice(0, limit);
  }

  private setMyCommands(p: Record<string, unknown>): true {
    const commands = p.commands;
    if (!Array.isArray(commands) || commands.length > 100) throw new ApiError(400, 'Bad Request: commands must be an array of at most 100');
    for (const c of commands as { command?: unknown; description?: unknown }[]) {
      if (typeof c.command !== 'string' || !/^[a-z0-9_]{1,32}$/.test(c.command)) throw new ApiError(400, 'Bad Request: BOT_COMMAND_INVALID');
      if (typeof c.description !== 'string' || c.description.length < 1 || c.description.length > 256) throw new ApiError(400, 'Bad Request: BOT_COMMAND_DESCRIPTION_INVALID');
    }
    return true;
  }

  private checkText(p: Record<string, unknown>): { html: string; text: string } {
    const html = typeof p.text === 'string' ? p.text : '';
    const text = p.parse_mode === 'HTML' ? parseTelegramHtml(html) : html;
    if (text.trim() === '') throw new ApiError(400, 'Bad Request: message text is empty');
    if (text.length > 4096) throw new ApiError(400, 'Bad Request: message is too long');
    return { html, text };
  }

  private checkMarkup(p: Record<string, unknown>): SentMessage['replyMarkup'] {
    const markup = p.reply_markup as SentMessage['replyMarkup'] | undefined;
    if (markup === undefined) return undefined;
    for (const row of markup.inline_keyboard) {
      for (const b of row) {
        if (typeof b.text !== 'string' || b.text === '') throw new ApiError(400, 'Bad Request: text buttons are unallowed in the inline keyboard');
        if (typeof b.callback_data !== 'string' || Buffer.byteLength(b.callback_data) < 1 || Buffer.byteLength(b.callback_data) > 64) throw new ApiError(400, 'Bad Request: BUTTON_DATA_INVALID');
      }
    }
    return markup;
  }

  private sendMessage(p: Record<string, unknown>): unknown {
    const chat = this.chats.get(Number(p.chat_id));
    if (chat === undefined) throw new ApiError(400, 'Bad Request: chat not found');
    const threadId = typeof p.message_thread_id === 'number' ? p.message_thread_id : undefined;
    if (threadId !== undefined && (!chat.isForum || !chat.topics.has(threadId))) throw new ApiError(400, 'Bad Request: message thread not found');
    const { html, text } = this.checkText(p);
    const replyMarkup = this.checkMarkup(p);
    const sent: SentMessage = { chatId: chat.id, messageId: this.nextMessageId++, html, text, ...(threadId === undefined ? {} : { threadId }), ...(replyMarkup ? { replyMarkup } : {}) };
    this.messages.push(sent);
    return {
      message_id: sent.messageId,
      date: Math.floor(Date.now() / 1000),
      chat: { id: chat.id, type: chat.type },
      from: { id: this.botUser.id, is_bot: true, first_name: 'certwatch', username: this.botUser.username },
      text,
      ...(threadId === undefined ? {} : { message_thread_id: threadId, is_topic_message: true }),
    };
  }

  private editMessageText(p: Record<string, unknown>): unknown {
    const msg = this.messages.find((m) => m.chatId === Number(p.chat_id) && m.messageId === Number(p.message_id));
    if (msg === undefined) throw new ApiError(400, 'Bad Request: message to edit not found');
    const { html, text } = this.checkText(p);
    const replyMarkup = this.checkMarkup(p);
    if (html === msg.html && JSON.stringify(replyMarkup) === JSON.stringify(msg.replyMarkup)) {
      throw new ApiError(400, 'Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
    }
    msg.html = html;
    msg.text = text;
    if (replyMarkup === undefined) delete msg.replyMarkup;
    else msg.replyMarkup = replyMarkup;
    return { message_id: msg.messageId, date: Math.floor(Date.now() / 1000), chat: { id: msg.chatId, type: 'private' }, text };
  }
}

/** Posts an update to a webhook the way Telegram does; returns the HTTP status. */
export async function postWebhook(url: string, update: Record<string, unknown>, secretToken?: string): Promise<number> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(secretToken === undefined ? {} : { 'x-telegram-bot-api-secret-token': secretToken }) },
    body: JSON.stringify(update),
  });
  await res.arrayBuffer();
  return res.status;
}
