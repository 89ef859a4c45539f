// The Slack app manifest is static YAML for users to paste; keep it in step with the command
// registry (the one table of commands) and with what the adapter needs.
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { commands } from '../../src/commands/index.ts';

const manifest = await readFile(new URL('../../slack-app-manifest.yml', import.meta.url), 'utf8');

test('slack manifest: declares /cert and its usage hint names every registered command', () => {
  assert.match(manifest, /^\s*- command: \/cert$/m);
  const hint = /^\s*usage_hint: "(.*)"$/m.exec(manifest)?.[1] ?? '';
  for (const c of commands) assert.match(hint, new RegExp(`(^|\\| )${c.name}\\b`), `usage_hint lacks ${c.name}`);
});

test('slack manifest: has the scopes, events and settings the adapter relies on', () => {
  for (const scope of ['commands', 'chat:write', 'app_mentions:read']) assert.match(manifest, new RegExp(`^\\s*- ${scope}$`, 'm'), scope);
  assert.match(manifest, /^\s*- app_mention$/m);
  assert.match(manifest, /^\s*is_enabled: true$/m, 'interactivity for alert buttons');
  assert.match(manifest, /^\s*socket_mode_enabled: true$/m);
});
