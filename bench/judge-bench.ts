// CPU per judge() call for a cached chain of 2 (leaf + intermediate, root in the store):
// the cost the probe pays on every probe of a server whose certificates it has seen.
// Usage: node bench/judge-bench.ts [iterations]. Exit 1 when above the 0.1 ms budget.
import { judge } from '../src/cert/judge.ts';
import { TrustStore } from '../src/cert/trust.ts';
import { testPki } from '../test/helpers/pki.ts';

const BUDGET_MS = 0.1;
const iterations = Number(process.argv[2] ?? 20_000);
const { root, inter, leaf } = await testPki();
const trust = TrustStore.fromPem(root.certPem);
const input = { chain: [leaf.der, inter.der], tlsVersion: 'TLSv1.3', expectedName: 'localhost', now: new Date(), warnDays: 30, critDays: 7 };
const first = judge(input, trust);
if (!first.trusted || first.problems.length > 0) throw new Error(`bench chain is not healthy: ${JSON.stringify(first.problems)}`);
for (let i = 0; i < 2_000; i++) judge(input, trust); // warm up the JIT
const t0 = process.cpuUsage();
for (let i = 0; i < iterations; i++) judge(input, trust);
const d = process.cpuUsage(t0);
const perCall = (d.user + d.system) / 1000 / iterations;
const ok = perCall <= BUDGET_MS;
console.log(`judge(): ${(perCall * 1000).toFixed(1)} us CPU per call (cached chain of 2, ${iterations} calls); budget ${BUDGET_MS * 1000} us: ${ok ? 'PASS' : 'FAIL'}`);
process.exitCode = ok ? 0 : 1;
