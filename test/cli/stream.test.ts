import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { streamCheck } from '../../src/cli/check.ts';
import { exitStatusFor, StatusTally } from '../../src/cli/exit-status.ts';
import { formatJson, formatTable, JsonArrayWriter, TableBuilder } from '../../src/cli/format.ts';
import type { Prober } from '../../src/probe/probe.ts';
import type { ProbeResult, Status } from '../../src/probe/result.ts';
import { parseTarget, type Target } from '../../src/probe/target.ts';
import { probeResult } from '../helpers/results.ts';

function result(target: Target, status: Status, address: string, extra: Partial<ProbeResult> = {}): ProbeResult {
  const problems: ProbeResult['problems'] = status === 'warning' ? [{ code: 'EXPIRES_SOON', severity: 'warning', message: 'expires in 3 days\nsoon "quoted" \u2028' }] : [];
  return probeResult(status, { target, address, problems, timings: { totalMs: 1.5 }, ...extra });
}

/** A prober whose probes finish when the test says, recording how many run at once. */
function manualProber(): { prober: Prober; started: number[]; finish: (i: number, r?: ProbeResult[]) => void; peak: () => number } {
  const started: number[] = [];
  const gates = new Map<number, (r: ProbeResult[]) => void>();
  let running = 0;
  let peak = 0;
  const prober = {
    probe(target: Target): Promise<ProbeResult[]> {
      const i = Number(target.host.slice(1, target.host.indexOf('.')));
      started.push(i);
      running++;
      peak = Math.max(peak, running);
      return new Promise((resolve) =>
        gates.set(i, (r) => {
          running--;
          resolve(r);
        }),
      );
    },
  } as unknown as Prober;
  return {
    prober,
    started,
    finish: (i, r) => gates.get(i)!(r ?? [result(parseTarget(`h${i}.example`), 'ok', '192.0.2.1')]),
    peak: () => peak,
  };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const targets = (n: number): Target[] => Array.from({ length: n }, (_, i) => parseTarget(`h${i}.example`));

describe('cli streaming output', () => {
  it('json: the streamed array is byte for byte what formatJson prints, also for none and one', () => {
    const t = parseTarget('smtp://mx.example');
    const all = [result(t, 'ok', '192.0.2.1'), result(t, 'warning', '2001:db8::1'), result(t, 'error', '192.0.2.2')];
    for (const batch of [[], [all[0]!], all]) {
      const w = new JsonArrayWriter();
      // Handed over in uneven groups, as targets with several addresses are.
      const text = w.next(batch.slice(0, 1)) + w.next([]) + w.next(batch.slice(1)) + w.end();
      assert.equal(text, formatJson(batch));
      assert.deepEqual(JSON.parse(text), JSON.parse(JSON.stringify(batch)));
    }
  });

  it('table: rows added in pieces render exactly as formatTable renders them at once', () => {
    const rows = Array.from({ length: 2500 }, (_, i) => result(parseTarget(`host-${i}.example:${1000 + (i % 7)}`), (['ok', 'warning', 'error'] as const)[i % 3]!, `192.0.2.${i % 250}`));
    const table = new TableBuilder();
    for (let i = 0; i < rows.length; i += 7) table.add(rows.slice(i, i + 7));
    const chunks = [...table.render({ color: true })];
    assert.ok(chunks.length > 1, 'a long table is written in several chunks');
    assert.equal(chunks.join(''), formatTable(rows, { color: true }));
    assert.match(chunks.at(-1)!, /2500 addresses checked: 834 ok, 833 warning, 0 critical, 833 could not be checked\n$/);
  });

  it('exit status: the tally of streamed results agrees with exitStatusFor', () => {
    const t = parseTarget('x.example');
    const sets: Status[][] = [[], ['ok'], ['ok', 'warning'], ['warning', 'error'], ['error', 'critical', 'ok']];
    for (const statuses of sets) {
      const rs = statuses.map((s) => result(t, s, '192.0.2.1'));
      const tally = new StatusTally();
      rs.forEach((r) => tally.add([r]));
      assert.equal(tally.exitStatus(), exitStatusFor(rs), statuses.join(','));
    }
  });

  it('streamCheck: hands results over in target order as soon as every earlier target is done', async () => {
    const p = manualProber();
    const got: string[] = [];
    const run = streamCheck(targets(5), { prober: p.prober, concurrency: 3, timeoutMs: 1000, warnDays: 30, critDays: 7 }, (rs, t) => void got.push(`${t.host}:${rs.length}`));
    await tick();
    assert.deepEqual(p.started, [0, 1, 2]);
    p.finish(2);
    p.finish(1);
    await tick();
    assert.deepEqual(got, [], 'nothing is written while target 0 is unfinished');
    p.finish(0);
    await tick();
    assert.deepEqual(got, ['h0.example:1', 'h1.example:1', 'h2.example:1']);
    p.finish(4);
    p.finish(3, []);
    await run;
    assert.deepEqual(got.slice(3), ['h3.example:0', 'h4.example:1']);
  });

  it('streamCheck: a slow target holds back at most the window of finished results, then workers wait', async () => {
    const p = manualProber();
    let written = 0;
    const run = streamCheck(targets(20), { prober: p.prober, concurrency: 3, window: 5, timeoutMs: 1000, warnDays: 30, critDays: 7 }, () => void written++);
    await tick();
    // Target 0 hangs; the others finish at once as they start.
    for (let round = 0; round < 10; round++) {
      for (const i of p.started) if (i !== 0 && i < 20) p.finish(i);
      await tick();
    }
    assert.equal(written, 0);
    assert.deepEqual([...p.started].sort((a, b) => a - b), [0, 1, 2, 3, 4], 'no target past the window is started');
    p.finish(0);
    for (let round = 0; round < 40 && written < 20; round++) {
      for (const i of p.started) if (i > 4) try { p.finish(i); } catch { /* already finished */ }
      await tick();
    }
    await run;
    assert.equal(written, 20);
    assert.ok(p.peak() <= 3);
  });

  it('streamCheck: a sink that waits (stdout draining) holds the workers back', async () => {
    let inFlight = 0;
    let peak = 0;
    const prober = {
      async probe(t: Target): Promise<ProbeResult[]> {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await tick();
        inFlight--;
        return [result(t, 'ok', '192.0.2.1')];
      },
    } as unknown as Prober;
    let release!: () => void;
    const drained = new Promise<void>((r) => (release = r));
    let calls = 0;
    const run = streamCheck(targets(50), { prober, concurrency: 4, window: 8, timeoutMs: 1000, warnDays: 30, critDays: 7 }, async () => {
      calls++;
      if (calls === 1) await drained;
    });
    for (let i = 0; i < 20; i++) await tick();
    assert.equal(calls, 1, 'the sink is not re-entered while it waits');
    assert.equal(inFlight, 0, 'every worker waits for the sink');
    release();
    await run;
    assert.equal(calls, 50);
    assert.ok(peak <= 4);
  });

  it('streamCheck: an error thrown by the sink ends the run with that error and starts nothing more', async () => {
    let probes = 0;
    const prober = {
      async probe(t: Target): Promise<ProbeResult[]> {
        probes++;
        await tick();
        return [result(t, 'ok', '192.0.2.1')];
      },
    } as unknown as Prober;
    const epipe = Object.assign(new Error('write EPIPE'), { code: 'EPIPE' });
    await assert.rejects(
      streamCheck(targets(100), { prober, concurrency: 2, timeoutMs: 1000, warnDays: 30, critDays: 7 }, () => {
        throw epipe;
      }),
      /EPIPE/,
    );
    await tick();
    assert.ok(probes <= 3, `probes after the failure: ${probes}`);
  });
});
