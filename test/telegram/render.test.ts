import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCallback, encodeCallback, inlineKeyboard } from '../../src/chat/telegram/callback.ts';
import { redact, toDeliveryError } from '../../src/chat/telegram/errors.ts';
import { escapeHtml, renderHtmlMessages, splitLines } from '../../src/chat/telegram/html.ts';
import { channelOf, parseCommand } from '../../src/chat/telegram/parse.ts';
import { parseTelegramHtml } from '../helpers/fake-telegram.ts';

test('telegram html: escapes &, <, > and quotes', () => {
  assert.equal(escapeHtml(`<script>&"x"</script>`), '&lt;script&gt;&amp;&quot;x&quot;&lt;/script&gt;');
});

test('telegram html: a hostile reply renders to markup the Bot API parser accepts, showing the text verbatim', () => {
  const hostile = '<script>alert(1)</script> & <b>bold?</b> &amp; "q"';
  const [html, ...rest] = renderHtmlMessages({
    title: hostile,
    status: 'critical',
    text: [hostile],
    fields: [{ label: '<Issuer>', value: hostile }],
    items: [hostile],
  });
  assert.equal(rest.length, 0);
  const visible = parseTelegramHtml(html ?? '');
  assert.equal(visible.split(hostile).length - 1, 4, 'the hostile string appears verbatim four times');
  assert.ok(visible.includes('<Issuer>:'));
  assert.ok(visible.startsWith('🔴 '));
});

test('telegram html: splits a reply over 4096 characters on line boundaries, keeping every line in order', () => {
  const items = Array.from({ length: 400 }, (_, i) => `item ${String(i).padStart(3, '0')} ${'x'.repeat(30)}`);
  const parts = renderHtmlMessages({ title: 'Many', items });
  assert.ok(parts.length >= 4);
  for (const p of parts) {
    assert.ok(p.length <= 4096, `part of ${p.length} characters`);
    parseTelegramHtml(p);
  }
  const joined = parts.join('\n');
  for (const item of items) assert.ok(joined.includes(`• ${item}\n`) || joined.endsWith(`• ${item}`), item);
  const order = items.map((item) => joined.indexOf(item));
  assert.deepEqual(order, [...order].sort((a, b) => a - b));
});

test('telegram html: a single huge line of escapable text still fits, wrapped across messages', () => {
  const parts = renderHtmlMessages({ title: 't', text: ['&'.repeat(10_000)] });
  let amps = 0;
  for (const p of parts) {
    assert.ok(p.length <= 4096);
    amps += parseTelegramHtml(p).split('&').length - 1;
  }
  assert.equal(amps, 10_000);
});

test('telegram html: splitLines never returns an empty message', () => {
  assert.deepEqual(splitLines(['', '']), ['…']);
  assert.deepEqual(splitLines(['a', 'b'], 3), ['a\nb']);
  assert.deepEqual(splitLines(['aa', 'bb'], 3), ['aa', 'bb']);
});

test('telegram buttons: command lines map to short callback data and back', () => {
  for (const [line, data] of [
    ['check k3x9p2', 'c:k3x9p2'],
    ['mute k3x9p2 7d', 'm:k3x9p2:7d'],
    ['remove k3x9p2', 'r:k3x9p2'],
    ['unmute k3x9p2', 'u:k3x9p2'],
  ] as const) {
    assert.equal(encodeCallback(line), data);
    assert.equal(decodeCallback(data), line);
  }
  assert.equal(encodeCallback('add mail.example.com:587'), '/add mail.example.com:587');
  assert.equal(decodeCallback('/add mail.example.com:587'), 'add mail.example.com:587');
  assert.equal(encodeCallback(`check ${'x'.repeat(70)}`), null, 'over 64 bytes cannot be a button');
  assert.equal(decodeCallback('z:whatever'), null);
  assert.equal(decodeCallback('c:'), null);
  assert.equal(decodeCallback('/'), null);
});

test('telegram buttons: the keyboard keeps buttons whose data fits and rows of three', () => {
  const kb = inlineKeyboard([
    { label: 'Check now', command: 'check a' },
    { label: 'Mute 7d', command: 'mute a 7d' },
    { label: 'Remove', command: 'remove a' },
    { label: 'Too long', command: `check ${'y'.repeat(80)}` },
    { label: 'List', command: 'list' },
  ]);
  assert.deepEqual(kb, [
    [
      { text: 'Check now', callback_data: 'c:a' },
      { text: 'Mute 7d', callback_data: 'm:a:7d' },
      { text: 'Remove', callback_data: 'r:a' },
    ],
    [{ text: 'List', callback_data: 'l' }],
  ]);
});

test('telegram parse: reads /cmd, /cmd@thisbot and ignores commands for other bots', () => {
  assert.deepEqual(parseCommand('/add mail.example.com:587', 'cw_bot'), { name: 'add', text: 'mail.example.com:587', addressed: false });
  assert.deepEqual(parseCommand('/ADD@CW_bot  x ', 'cw_bot'), { name: 'add', text: 'x', addressed: true });
  assert.equal(parseCommand('/add@other_bot x', 'cw_bot'), null);
  assert.equal(parseCommand('hello /add', 'cw_bot'), null);
  assert.equal(parseCommand('/add-x', 'cw_bot'), null);
  assert.deepEqual(parseCommand('/start', 'cw_bot'), { name: 'help', text: '', addressed: false });
});

test('telegram parse: a forum topic becomes the thread, a reply thread in a plain group does not', () => {
  assert.deepEqual(channelOf({ chat: { id: -100 }, message_thread_id: 7, is_topic_message: true }), { platform: 'telegram', channelId: '-100', threadId: '7' });
  assert.deepEqual(channelOf({ chat: { id: -100 }, message_thread_id: 7 }), { platform: 'telegram', channelId: '-100' });
});

test('telegram errors: 429 carries retryAfterMs, 403 and 400 are permanent, 5xx is retried', () => {
  const token = '42:SECRETsecretSECRET';
  const e429 = toDeliveryError({ code: 429, description: 'Too Many Requests: retry after 3', parameters: { retry_after: 3 } }, token, 'sendMessage');
  assert.equal(e429.options.retryAfterMs, 3000);
  assert.notEqual(e429.options.permanent, true);
  assert.equal(toDeliveryError({ code: 403, description: 'Forbidden: bot was blocked by the user' }, token, 'x').options.permanent, true);
  assert.equal(toDeliveryError({ code: 400, description: 'Bad Request: chat not found' }, token, 'x').options.permanent, true);
  const e502 = toDeliveryError({ code: 502, description: 'Bad Gateway' }, token, 'x');
  assert.equal(e502.options.permanent, undefined);
  assert.equal(e502.options.retryAfterMs, undefined);
});

test('telegram errors: the token never survives in a message or cause', () => {
  const token = '42:SECRETsecretSECRET';
  const net = Object.assign(new Error(`request to http://127.0.0.1:1/bot${token}/sendMessage failed, reason: connect ECONNREFUSED`), { name: 'FetchError' });
  const d = toDeliveryError(net, token, 'sendMessage');
  assert.ok(!d.message.includes('SECRETsecretSECRET'), d.message);
  assert.ok(!String((d.cause as Error).message).includes('SECRETsecretSECRET'));
  assert.equal(redact(`x/bot99:abcdefghijk/y ${token}`, token), 'x/bot[REDACTED]/y [REDACTED]');
});
