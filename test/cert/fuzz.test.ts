import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CertificateParseError, judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { JudgeInput } from '../../src/cert/types.ts';
import { makeLeaf, testPki } from '../helpers/pki.ts';

/** xorshift32: the same mutations on every run, so a failure reproduces from its seed. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const interesting = [0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0x84, 0xff, 0x30, 0x31, 0x04, 0x06, 0xa0, 0xa3, 0x82];

/** One to four byte-level mutations: flips, interesting values (tags, lengths), truncation, duplication. */
function mutate(der: Buffer, next: () => number): Buffer {
  let out = Buffer.from(der);
  const n = 1 + Math.floor(next() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(next() * out.length);
    const op = Math.floor(next() * 5);
    if (op === 0) out[at] = out[at]! ^ (1 << Math.floor(next() * 8));
    else if (op === 1) out[at] = interesting[Math.floor(next() * interesting.length)]!;
    else if (op === 2) out = out.subarray(0, at);
    else if (op === 3) out = Buffer.concat([out.subarray(0, at), out.subarray(at, Math.min(out.length, at + 16)), out.subarray(at)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(Math.min(out.length, at + 1 + Math.floor(next() * 8)))]);
  }
  return out;
}

describe('judge fuzzing', async () => {
  const { root, inter, leaf } = await testPki();
  const manySans = await makeLeaf(inter, { sans: Array.from({ length: 300 }, (_, i) => `h${i}.example.com`).concat(['192.0.2.1', '::1']) });
  const trust = TrustStore.fromPem(root.certPem);
  const input = (chain: Buffer[]): JudgeInput => ({ chain, tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 });

  it('fuzz: judging thousands of mutated certificates always returns a judgement or a CertificateParseError', () => {
    const next = rng(0xc0ffee);
    let judged = 0;
    let unreadable = 0;
    for (let i = 0; i < 4000; i++) {
      const base = [leaf.der, inter.der, manySans.der][i % 3]!;
      const mutated = mutate(base, next);
      const chain = i % 3 === 1 ? [leaf.der, mutated] : [mutated, inter.der];
      try {
        const j = judge(input(chain), trust);
        assert.ok(Array.isArray(j.problems));
        assert.equal(typeof j.trusted, 'boolean');
        judged++;
      } catch (err) {
        if (!(err instanceof CertificateParseError)) {
          assert.fail(`mutation ${i} (seed 0xc0ffee) threw ${err instanceof Error ? err.stack : String(err)}`);
        }
        unreadable++;
      }
    }
    assert.ok(judged > 1000, `most mutations are still judged (${judged} judged, ${unreadable} unreadable)`);
  });
});
