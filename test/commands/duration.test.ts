import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/commands/duration.ts';

const H = 3_600_000;

test('duration: parses minutes, hours, days, weeks and combinations', () => {
  assert.equal(parseDuration('30m'), 30 * 60_000);
  assert.equal(parseDuration('12h'), 12 * H);
  assert.equal(parseDuration('7d'), 7 * 24 * H);
  assert.equal(parseDuration('2W'), 14 * 24 * H);
  assert.equal(parseDuration('1d12h'), 36 * H);
  assert.equal(parseDuration(' 1h30m '), 90 * 60_000);
});

test('duration: rejects malformed, repeated-unit, zero and longer-than-a-year input', () => {
  for (const bad of ['', '7', 'd', '7x', '1.5d', '-1d', '1d1d', '0m', '367d', '99999d', '7 d', '1d 2h']) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
  assert.equal(parseDuration('366d'), 366 * 24 * H);
});

test('duration: formats for people', () => {
  assert.equal(formatDuration(36 * H), '1d 12h');
  assert.equal(formatDuration(7 * 24 * H), '7d');
  assert.equal(formatDuration(45 * 60_000), '45m');
  assert.equal(formatDuration(0), '0m');
});
