// Child for sqlite.test.ts: writes keys through the real store as fast as it can and prints
// each key once its write is acknowledged; the parent SIGKILLs it mid-run.
import { openKeyv } from '../../src/store/keyv.ts';

const kv = await openKeyv(`sqlite://${process.argv[2]}`);
let i = 0;
const writer = async (): Promise<void> => {
  for (;;) {
    const key = `k${i++}`;
    await kv.set(key, { n: key, pad: 'x'.repeat(200) });
    process.stdout.write(`${key}\n`);
  }
};
await Promise.all(Array.from({ length: 50 }, writer));
