import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { judge } from '../../src/cert/judge.ts';
import { TrustStore } from '../../src/cert/trust.ts';
import type { Judgement, JudgeInput } from '../../src/cert/types.ts';
import { makeCa, makeLeaf, testPki, type Issued } from '../helpers/pki.ts';

function run(chain: Issued[], trust: TrustStore, over: Partial<JudgeInput> = {}): Judgement {
  return judge({ chain: chain.map((c) => c.der), tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7, ...over }, trust);
}

const codes = (j: Judgement): string[] => j.problems.map((p) => p.code).sort();

describe('path rules', async () => {
  const { root, inter, leaf } = await testPki();
  const publicRoot = await makeCa({ name: 'some public root' });

  it('rules: a chain ending at an intermediate of an untrusted private root is UNTRUSTED with the --ca advice, not CHAIN_INCOMPLETE', () => {
    const j = run([leaf, inter], TrustStore.fromPem(publicRoot.certPem));
    assert.deepEqual(codes(j), ['UNTRUSTED']);
    assert.match(j.problems[0]!.message, /certwatch test intermediate.*--ca/);
  });

  it('rules: a server that omits the intermediate is CHAIN_INCOMPLETE', () => {
    const j = run([leaf], TrustStore.fromPem(root.certPem));
    assert.deepEqual(codes(j), ['CHAIN_INCOMPLETE']);
    assert.match(j.problems[0]!.message, /serve the intermediate/);
  });

  it('rules: a leaf used as an issuer is INVALID_CA naming the certificate', async () => {
    const fake = await makeLeaf(leaf, { sans: ['localhost'], name: 'child of a leaf' });
    const j = run([fake, leaf, inter], TrustStore.fromPem(root.certPem));
    assert.equal(j.trusted, false);
    assert.ok(codes(j).includes('INVALID_CA'), JSON.stringify(j.problems));
    assert.match(j.problems.find((p) => p.code === 'INVALID_CA')!.message, /"localhost" signs certificates but is not a CA/);
  });

  it('rules: the search backtracks past a sent expired cross-certificate to a live path', async () => {
    const otherRoot = await makeCa({ name: 'certwatch old root' });
    const j = run([leaf, inter], TrustStore.fromPem([otherRoot.certPem, root.certPem]));
    assert.equal(j.trusted, true);
    assert.deepEqual(j.problems, []);
  });
});
