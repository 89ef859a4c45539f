import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mapLimit } from '../../src/util/concurrency.ts';

/** A task the test resolves by hand, to observe what runs at once. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('mapLimit', () => {
  it('concurrency: never runs more than the limit at once and keeps input order', async () => {
    const gates = Array.from({ length: 7 }, gate);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const run = mapLimit(gates, 3, async (g, i) => {
      running++;
      peak = Math.max(peak, running);
      started.push(i);
      await g.promise;
      running--;
      return i * 10;
    });
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1, 2]);
    // Finishing a later item first frees a slot for the next one (no fixed batches).
    gates[2]!.open();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(started, [0, 1, 2, 3]);
    for (const g of gates) g.open();
    assert.deepEqual(await run, [0, 10, 20, 30, 40, 50, 60]);
    assert.equal(peak, 3);
  });

  it('concurrency: reports progress once per item with the running count', async () => {
    const seen: [number, number, string][] = [];
    await mapLimit(['a', 'b', 'c'], 2, async (s) => s.toUpperCase(), (done, total, _item, result) => seen.push([done, total, result]));
    assert.deepEqual(seen.map(([d, t]) => [d, t]), [[1, 3], [2, 3], [3, 3]]);
    assert.deepEqual(seen.map(([, , r]) => r).sort(), ['A', 'B', 'C']);
  });

  it('concurrency: an empty list resolves to an empty list', async () => {
    assert.deepEqual(await mapLimit([], 5, async () => 1), []);
  });

  it('concurrency: a throwing task rejects and stops starting new tasks', async () => {
    const started: number[] = [];
    await assert.rejects(
      mapLimit([0, 1, 2, 3, 4, 5], 1, async (i) => {
        started.push(i);
        if (i === 1) throw new Error('bug');
        return i;
      }),
      /bug/,
    );
    assert.deepEqual(started, [0, 1]);
  });

  it('concurrency: refuses a limit below 1', async () => {
    await assert.rejects(mapLimit([1], 0, async (x) => x), RangeError);
  });
});
