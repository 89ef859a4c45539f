import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TrustStore } from '../../src/cert/trust.ts';
import { createMailService } from '../../src/mail/service.ts';
import { harness, replyText } from '../commands/fakes.ts';
import { rr, startFakeDns, table, type FakeDns } from '../helpers/fake-dns.ts';

describe('chat: check mail', () => {
  let dns: FakeDns;
  before(async () => {
    dns = await startFakeDns(
      table({
        'MX null.test': { answers: [rr('MX', 'null.test', { preference: 0, exchange: '.' })] },
        'MX mail.test': { answers: [rr('MX', 'mail.test', { preference: 10, exchange: 'mx1.mail.test' }), rr('MX', 'mail.test', { preference: 20, exchange: 'mx2.mail.test' })] },
      }),
    );
  });
  after(() => dns.close());
  const withMail = () => {
    const h = harness();
    h.services.mail = createMailService({ servers: [`127.0.0.1:${dns.port}`], trust: TrustStore.bundled(), timeoutMs: 2000, warnDays: 30, critDays: 7 });
    return h;
  };

  it('check mail: replies with the domain as a tree of its MX hosts', async () => {
    const reply = await withMail().one('check mail mail.test');
    assert.equal(reply.status, 'error');
    assert.match(reply.title, /^UNKNOWN {2}mail\.test {2}\(MX; MTA-STS none; TLS-RPT none\)$/);
    assert.match(reply.items?.[0] ?? '', /^├ mx 10 {2}mx1\.mail\.test:25 {2}UNKNOWN {2}no certificate$/);
    assert.ok(reply.items?.some((i) => /^└ mx 20 {2}mx2\.mail\.test:25/.test(i)), replyText(reply));
    assert.match(replyText(reply), /DNS_FAILED: mx2\.mail\.test:25: cannot resolve mx2\.mail\.test \(NXDOMAIN\)/);
  });

  it('check mail: a null MX is a note; a bad domain gets the usage line', async () => {
    const h = withMail();
    const reply = await h.one('check mail null.test');
    assert.equal(reply.status, 'ok');
    assert.match(replyText(reply), /NULL_MX \(note\)/);
    const bad = await h.one('check mail 10.0.0.1');
    assert.match(replyText(bad), /not a mail domain/);
    const extra = await h.one('check a.example b.example');
    assert.match(replyText(extra), /check takes one target/);
  });

  it('check mail: without a mail service the command says so', async () => {
    const reply = await harness().one('check mail null.test');
    assert.match(replyText(reply), /not enabled/);
  });
});
