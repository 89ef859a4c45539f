import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argLimits, parseArgs, tokenize } from '../../src/commands/tokenize.ts';
import { UserError } from '../../src/commands/types.ts';

test('tokenize: splits on whitespace and honours double and single quotes', () => {
  assert.deepEqual(tokenize('  mail.example.com:587   "Mail relay"  \'db one\' '), ['mail.example.com:587', 'Mail relay', 'db one']);
  assert.deepEqual(tokenize('say "a \\"quoted\\" word"'), ['say', 'a "quoted" word']);
  assert.deepEqual(tokenize('pre"fix and"post'), ['prefix andpost']);
  assert.deepEqual(tokenize('""'), ['']);
  assert.deepEqual(tokenize(''), []);
});

test('tokenize: accepts the curly quotes phones and macOS substitute', () => {
  assert.deepEqual(tokenize('add x.example.com “Mail relay”'), ['add', 'x.example.com', 'Mail relay']);
  assert.deepEqual(tokenize('‘one two’'), ['one two']);
});

test('tokenize: unwraps Slack auto-links to what the user typed', () => {
  assert.deepEqual(tokenize('<http://mail.example.com|mail.example.com>:587'), ['<http://mail.example.com|mail.example.com>:587']);
  assert.deepEqual(tokenize('<http://mail.example.com|mail.example.com>'), ['mail.example.com']);
  assert.deepEqual(tokenize('<https://example.org>'), ['https://example.org']);
});

test('tokenize: refuses unterminated quotes and over-long input', () => {
  assert.throws(() => tokenize('"open'), (e) => e instanceof UserError && /missing closing quote/.test(e.message));
  assert.throws(() => tokenize('x'.repeat(argLimits.maxText + 1)), /longer than 1000 characters/);
  assert.throws(() => tokenize('a '.repeat(argLimits.maxTokens + 1)), /more than 24 arguments/);
  assert.throws(() => tokenize('y'.repeat(argLimits.maxToken + 1)), /argument is longer than 300/);
});

test('parseArgs: separates options (--x v, --x=v, em dash) from positional words', () => {
  assert.deepEqual(parseArgs(['host', '--protocol', 'smtp', '--mode=starttls', 'label', '—servername', 'mx.example.com']), {
    positional: ['host', 'label'],
    options: { protocol: 'smtp', mode: 'starttls', servername: 'mx.example.com' },
  });
  assert.deepEqual(parseArgs(['--', '--not-an-option']), { positional: ['--not-an-option'], options: {} });
  assert.deepEqual(parseArgs(['-5']), { positional: ['-5'], options: {} });
});

test('parseArgs: refuses a repeated option and an option without a value', () => {
  assert.throws(() => parseArgs(['--mode', 'a', '--mode', 'b']), /given twice/);
  assert.throws(() => parseArgs(['host', '--mode']), /needs a value/);
});
