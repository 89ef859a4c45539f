import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { UsageError } from '../../src/cli/args.ts';
import { maxLineBytes, maxListBytes, parseTargetList, readTargetList } from '../../src/cli/target-list.ts';

const noStdin = (): Readable => Readable.from([]);

describe('cli target lists', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'certwatch-list-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('-f: reads one target per line, skipping comments and blank lines, naming each line', () => {
    const text = '\uFEFF# mail\r\nsmtp://mail.example\r\n\n   \n  imaps://imap.example:993   # primary\n#done\n[2001:db8::1]:993';
    assert.deepEqual(parseTargetList(text, 'hosts.txt'), [
      { input: 'smtp://mail.example', source: 'hosts.txt:2' },
      { input: 'imaps://imap.example:993', source: 'hosts.txt:5' },
      { input: '[2001:db8::1]:993', source: 'hosts.txt:7' },
    ]);
  });

  it('-f: refuses two targets on one line, naming file and line', () => {
    assert.throws(() => parseTargetList('a.example\nb.example c.example\n', 'list'), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.match(err.message, /^list:2: one target per line/);
      return true;
    });
  });

  it('-f: an empty or comment-only file yields no targets', () => {
    assert.deepEqual(parseTargetList('# nothing yet\n\n', 'x'), []);
  });

  it('-f: reads a file from disk', async () => {
    const path = join(dir, 'hosts.txt');
    await writeFile(path, 'a.example\n# b.example\nc.example:8443\n');
    const listed = await readTargetList(path, noStdin());
    assert.deepEqual(listed.map((l) => l.input), ['a.example', 'c.example:8443']);
    assert.equal(listed[1]?.source, `${path}:3`);
  });

  it('-f -: reads standard input', async () => {
    const listed = await readTargetList('-', Readable.from([Buffer.from('x.example\ny.example\n')]));
    assert.deepEqual(listed, [
      { input: 'x.example', source: 'stdin:1' },
      { input: 'y.example', source: 'stdin:2' },
    ]);
  });

  it('-f: a missing file is a usage error naming it', async () => {
    const path = join(dir, 'absent.txt');
    await assert.rejects(readTargetList(path, noStdin()), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, `-f ${path}: cannot read (no such file)`);
      return true;
    });
  });

  it('-f: a directory is a usage error naming it', async () => {
    await assert.rejects(readTargetList(dir, noStdin()), /cannot read \(is a directory\)/);
  });

  it('-f: refuses a list larger than the limit without reading it all', async () => {
    let produced = 0;
    // An endless source (like /dev/zero) must be cut off at the limit.
    const endless = new Readable({
      read() {
        produced += 65536;
        // Lines within the line limit, so only the total limit can stop it.
        this.push(Buffer.from(`${'a'.repeat(4095)}\n`.repeat(16)));
      },
    });
    await assert.rejects(readTargetList('-', endless), /-f stdin: larger than/);
    assert.ok(produced <= maxListBytes + 2 * 65536, `read ${produced} bytes`);
  });

  it('-f: refuses an overlong line (like /dev/zero) as soon as it exceeds the line limit', async () => {
    let produced = 0;
    const endless = new Readable({
      read() {
        produced += 65536;
        this.push(Buffer.alloc(65536, 0));
      },
    });
    await assert.rejects(readTargetList('-', endless), (err: unknown) => {
      assert.ok(err instanceof UsageError);
      assert.equal(err.message, `-f stdin:1: line longer than ${maxLineBytes} bytes`);
      return true;
    });
    assert.ok(produced <= 4 * 65536, `read ${produced} bytes`);
  });

  it('-f: an overlong complete line inside one read is refused too, naming its line', async () => {
    const text = `a.example\n${'b'.repeat(maxLineBytes + 1)}\nc.example\n`;
    await assert.rejects(readTargetList('-', Readable.from([Buffer.from(text)])), {
      message: `-f stdin:2: line longer than ${maxLineBytes} bytes`,
    });
  });

  it('-f: streams a list of 200,000 lines (the old reader overflowed the stack past 130,000)', async () => {
    const path = join(dir, 'many.txt');
    await writeFile(path, Array.from({ length: 200_000 }, (_, i) => `h${i}.example:${1 + (i % 60000)}`).join('\n'));
    const listed = await readTargetList(path, noStdin());
    assert.equal(listed.length, 200_000);
    assert.deepEqual(listed[199_999], { input: 'h199999.example:20000', source: `${path}:200000` });
  });

  it('-f: a line split across reads, CRLF and a BOM split across chunks are read as one', async () => {
    const bytes = Buffer.from('\uFEFFa.example\r\nb.exa\u00e9mple.test:25\r\n# c\nd.example');
    const chunks = Array.from(bytes, (b) => Buffer.from([b]));
    const listed = await readTargetList('-', Readable.from(chunks));
    assert.deepEqual(listed, [
      { input: 'a.example', source: 'stdin:1' },
      { input: 'b.exa\u00e9mple.test:25', source: 'stdin:2' },
      { input: 'd.example', source: 'stdin:4' },
    ]);
  });
});
