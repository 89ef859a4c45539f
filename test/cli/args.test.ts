import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UsageError, limits, parseCli } from '../../src/cli/args.ts';
import { checkHelp } from '../../src/cli/help.ts';
import { protocolNames } from '../../src/probe/protocols/index.ts';

function usageError(argv: string[]): string {
  try {
    parseCli(argv);
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return err.message;
  }
  assert.fail(`parseCli(${JSON.stringify(argv)}) did not fail`);
}

describe('cli arguments', () => {
  it('check: applies the documented defaults', () => {
    const c = parseCli(['check', 'example.com']);
    assert.equal(c.kind, 'check');
    if (c.kind !== 'check') return;
    assert.deepEqual(c.targets, ['example.com']);
    assert.equal(c.json, false);
    assert.deepEqual(c.caFiles, []);
    assert.deepEqual(c.files, []);
    assert.equal(c.timeoutMs, limits.timeoutMs.default);
    assert.equal(c.warnDays, 30);
    assert.equal(c.critDays, 7);
    assert.equal(c.concurrency, limits.concurrency.default);
    assert.equal(c.protocol, undefined);
    assert.equal(c.mode, undefined);
    assert.equal(c.servername, undefined);
  });

  it('check: reads every option, repeated --ca and -f, and options after targets', () => {
    const c = parseCli([
      'check', 'a.example', '--json', '--ca', 'one.pem', '--ca=two.pem', '--servername', 'mail.example',
      '--protocol', 'SMTP', '--mode', 'starttls', '--timeout', '2500', '--warn-days', '20', '--crit-days', '5',
      '-f', 'list.txt', '--file', 'more.txt', '--concurrency', '3', 'b.example',
    ]);
    assert.deepEqual(c, {
      kind: 'check',
      json: true,
      caFiles: ['one.pem', 'two.pem'],
      files: ['list.txt', 'more.txt'],
      targets: ['a.example', 'b.example'],
      protocol: 'smtp',
      mode: 'starttls',
      servername: 'mail.example',
      timeoutMs: 2500,
      warnDays: 20,
      critDays: 5,
      concurrency: 3,
    });
  });

  it('check: accepts a file alone, without target arguments', () => {
    const c = parseCli(['check', '-f', 'hosts.txt']);
    assert.equal(c.kind === 'check' && c.files[0], 'hosts.txt');
  });

  it('check: -4 and -6 choose one address family and exclude each other', () => {
    const four = parseCli(['check', '-4', 'example.com']);
    assert.equal(four.kind === 'check' && four.family, 4);
    const six = parseCli(['check', 'example.com', '--ipv6']);
    assert.equal(six.kind === 'check' && six.family, 6);
    const both = parseCli(['check', 'example.com']);
    assert.equal(both.kind === 'check' && both.family, undefined);
    assert.match(usageError(['check', '-4', '-6', 'example.com']), /exclude each other/);
  });

  it('check: refuses a run without any target', () => {
    assert.match(usageError(['check']), /no target given/);
    assert.match(usageError(['check', '--json']), /no target given/);
  });

  it('check: names an unknown option without parseArgs internals', () => {
    const msg = usageError(['check', '--colour', 'x']);
    assert.match(msg, /unknown option --colour/);
    assert.doesNotMatch(msg, /positional/);
  });

  it('check: names an option whose value is missing', () => {
    assert.equal(usageError(['check', 'x', '--ca']), '--ca needs a value');
    assert.equal(usageError(['check', 'x', '--timeout', '--json']), '--timeout needs a value');
    assert.equal(usageError(['check', 'x', '--json=yes']), '--json does not take a value');
  });

  it('check: refuses numbers that are not whole, or out of bounds', () => {
    assert.match(usageError(['check', 'x', '--timeout', '1.5']), /--timeout: "1.5" is not a whole number/);
    assert.match(usageError(['check', 'x', '--timeout', '-1']), /--timeout/);
    assert.match(usageError(['check', 'x', '--concurrency', '0']), /--concurrency: 0 is outside 1-500/);
    assert.match(usageError(['check', 'x', '--concurrency', '100000']), /--concurrency: 100000 is outside/);
    assert.match(usageError(['check', 'x', '--warn-days', 'soon']), /--warn-days/);
  });

  it('check: a negative number is refused as a number, not as a missing value', () => {
    // parseArgs takes "-5" for an option; "--timeout needs a value" sent people looking for a typo.
    assert.equal(usageError(['check', 'x', '--timeout', '-5']), '--timeout: "-5" is not a whole number');
    assert.equal(usageError(['check', 'x', '--warn-days', '-1']), '--warn-days: "-1" is not a whole number');
    assert.equal(usageError(['check', 'x', '--crit-days', '-0']), '--crit-days: "-0" is not a whole number');
    assert.equal(usageError(['check', 'x', '--concurrency', '-10', '--json']), '--concurrency: "-10" is not a whole number');
    assert.equal(usageError(['check', 'x', '--timeout=-5']), '--timeout: "-5" is not a whole number');
    assert.equal(usageError(['check', 'x', '--timeout', '-4']), '--timeout: "-4" is not a whole number');
    assert.equal(usageError(['check', 'x', '--timeout', '-h']), '--timeout needs a value');
    assert.equal(usageError(['check', 'x', '--timeout', '200', '--timeout', '-5']), '--timeout: "-5" is not a whole number');
  });

  it('check: refuses --crit-days above --warn-days', () => {
    assert.match(usageError(['check', 'x', '--warn-days', '10', '--crit-days', '14']), /--crit-days \(14\) must not exceed --warn-days \(10\)/);
  });

  it('check: validates --protocol against the protocol table and lists the known ones', () => {
    const msg = usageError(['check', 'x', '--protocol', 'gopher']);
    assert.match(msg, /unknown protocol "gopher"/);
    for (const name of protocolNames) assert.ok(msg.includes(name), `message lists ${name}`);
    for (const name of protocolNames) {
      const c = parseCli(['check', 'x', '--protocol', name]);
      assert.equal(c.kind === 'check' && c.protocol, name);
    }
  });

  it('check: an empty or invalid --servername is refused by the option\'s name, not taken for the host', () => {
    // "--servername=" (an unset shell variable) used to be ignored silently, and a bad name was
    // reported against the first target or as "hosts.txt:1", wherever it was read first.
    assert.equal(usageError(['check', 'x', '--servername=']), '--servername needs a host name');
    assert.equal(usageError(['check', '-f', 'hosts.txt', '--servername', '  ']), '--servername needs a host name');
    assert.equal(usageError(['check', '-f', 'hosts.txt', '--servername', 'a b']), '--servername: "a b" is not a valid host name');
    const secret = usageError(['check', 'x', '--servername', 'user:hunter2@mail.example']);
    assert.match(secret, /^--servername: /);
    assert.doesNotMatch(secret, /hunter2/);
    for (const name of ['mail.example.com', 'MAIL.example.com.', '192.0.2.1', '2001:db8::1', 'bücher.example']) {
      const c = parseCli(['check', 'x', '--servername', name]);
      assert.equal(c.kind === 'check' && c.servername, name);
    }
  });

  it('check: refuses a mode other than implicit or starttls', () => {
    assert.match(usageError(['check', 'x', '--mode', 'tls']), /--mode: unknown mode "tls"; use implicit or starttls/);
  });

  it('help: check --help, help check and -h give the check help', () => {
    for (const argv of [['check', '--help'], ['help', 'check'], ['check', '-h', 'x']]) {
      assert.deepEqual(parseCli(argv), { kind: 'help', topic: 'check' });
    }
    assert.deepEqual(parseCli(['--help']), { kind: 'help', topic: 'main' });
    assert.deepEqual(parseCli(['help']), { kind: 'help', topic: 'main' });
  });

  it('help: the check help lists every protocol of the table with its summary', () => {
    const text = checkHelp();
    for (const name of protocolNames) assert.match(text, new RegExp(`^  ${name} +\\S`, 'm'));
    for (const option of ['--json', '--ca', '--servername', '--protocol', '--mode', '--timeout', '--warn-days', '--crit-days', '--file', '--concurrency']) {
      assert.ok(text.includes(option), `help mentions ${option}`);
    }
  });

  it('version: --version and version', () => {
    assert.deepEqual(parseCli(['--version']), { kind: 'version' });
    assert.deepEqual(parseCli(['version']), { kind: 'version' });
  });

  it('refuses a missing or unknown command', () => {
    assert.match(usageError([]), /missing command/);
    assert.match(usageError(['chek', 'x']), /unknown command "chek"/);
  });
});
