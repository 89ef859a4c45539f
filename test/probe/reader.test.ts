import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { mysql } from '../../src/probe/protocols/mysql.ts';
import { smtp } from '../../src/probe/protocols/smtp.ts';
import type { Dialect } from '../../src/probe/protocols/types.ts';
import { xmppClient } from '../../src/probe/protocols/xmpp.ts';
import { runDialect, serverPool } from '../protocols/socket-harness.ts';

/** A fatal unexpected_message alert (RFC 8446 section 6): its description byte is 0x0a, a line feed. */
const ALERT = Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x0a]);

describe('reader', () => {
  const { serve, closeAll } = serverPool();
  after(closeAll);

  const dialects: [string, Dialect][] = [
    ['smtp', smtp],
    ['xmpp', xmppClient],
    ['mysql', mysql],
  ];
  for (const [name, dialect] of dialects) {
    it(`reader: a TLS record where the ${name} greeting belongs is PROTOCOL_ERROR with the implicit-TLS hint, whatever bytes it holds`, async () => {
      const port = await serve((conn) => conn.write(ALERT));
      const { error } = await runDialect(port, dialect);
      assert.ok(error !== null);
      assert.equal(error.code, 'PROTOCOL_ERROR', error.message);
      assert.match(error.message, /TLS instead of a plaintext greeting/);
      assert.match(error.hint ?? '', /--mode implicit/);
    });
  }
});
