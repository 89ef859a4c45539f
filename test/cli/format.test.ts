import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exitStatusFor } from '../../src/cli/exit-status.ts';
import { cell, formatTable, shortName } from '../../src/cli/format.ts';
import { probeResult as result } from '../helpers/results.ts';

describe('cli exit status and table formatting', () => {
  it('exit status: ok 0, warning 1, critical 2, error 3', () => {
    assert.equal(exitStatusFor([result('ok')]), 0);
    assert.equal(exitStatusFor([result('warning')]), 1);
    assert.equal(exitStatusFor([result('critical')]), 2);
    assert.equal(exitStatusFor([result('error')]), 3);
  });

  it('exit status: critical outranks could-not-check, which outranks warning', () => {
    assert.equal(exitStatusFor([result('ok'), result('error'), result('critical'), result('warning')]), 2);
    assert.equal(exitStatusFor([result('warning'), result('error'), result('ok')]), 3);
    assert.equal(exitStatusFor([result('ok'), result('warning'), result('ok')]), 1);
    assert.equal(exitStatusFor([]), 3);
  });

  it('shortName: takes the CN from either DN form, else the O, else the whole name', () => {
    assert.equal(shortName('C=US, O=Let\'s Encrypt, CN=R3'), 'R3');
    assert.equal(shortName('CN=Example CA, O=Example'), 'Example CA');
    assert.equal(shortName('C=US\nO=Example Org'), 'Example Org');
    assert.equal(shortName('C=US'), 'C=US');
  });

  it('cell: escapes terminal control characters a hostile server could put in a name', () => {
    assert.equal(cell('evil\u001b[2J\r\nname'), 'evil\\x1b[2J\\x0d\\x0aname');
    assert.equal(cell('a'.repeat(100), 10), `${'a'.repeat(9)}…`);
  });

  it('table: an issuer with escape sequences is printed escaped', () => {
    const cert = {
      subject: 'CN=x.example', issuer: 'CN=\u001b[31mevil', sans: ['x.example'], notBefore: '2029-01-01T00:00:00.000Z',
      notAfter: '2030-02-01T00:00:00.000Z', daysLeft: 31, serialNumber: '01', fingerprint256: 'AA', keyType: 'ec',
      keyBits: 256, signatureAlgorithm: 'ecdsa-with-SHA256', selfSigned: false,
    };
    const text = formatTable([result('ok', { certificate: cert })], { color: false });
    assert.doesNotMatch(text, /\u001b/);
    assert.match(text, /\\x1b\[31mevil/);
  });

  it('table: extra problems continue on their own lines under DETAILS', () => {
    const text = formatTable(
      [
        result('critical', {
          problems: [
            { code: 'EXPIRED', severity: 'critical', message: 'certificate expired 3 days ago' },
            { code: 'HOSTNAME_MISMATCH', severity: 'critical', message: 'certificate is not valid for x.example' },
          ],
        }),
      ],
      { color: false },
    );
    const lines = text.split('\n');
    const column = lines[0]!.indexOf('DETAILS');
    assert.equal(lines[1]!.indexOf('EXPIRED: certificate expired 3 days ago'), column);
    assert.equal(lines[2]!.indexOf('HOSTNAME_MISMATCH: '), column);
    assert.match(lines[2]!, /^ +HOSTNAME_MISMATCH/);
  });
});
