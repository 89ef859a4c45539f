import assert from 'node:assert/strict';
import { test } from 'node:test';
import { displayName } from '../../src/alerts/messages.ts';
import { expiryText, soonestCertificate } from '../../src/chat/format.ts';
import type { Reply } from '../../src/chat/types.ts';
import type { LatestResults, TargetRecord } from '../../src/core/services.ts';
import { OutboxStore } from '../../src/outbox/index.ts';
import type { Status } from '../../src/probe/result.ts';
import { parseTarget } from '../../src/probe/target.ts';
import { digestReply, postDigest } from '../../src/scheduler/index.ts';
import { openStore } from '../../src/store/index.ts';

const NOW = Date.UTC(2026, 5, 1, 12);

/** The digest as it was computed before it was bounded (every row sorted): the oracle. */
function referenceDigest(targets: TargetRecord[], latest: Map<string, LatestResults>): Reply {
  const rows = targets.map((t) => {
    const l = latest.get(t.id);
    const soonest = l === undefined ? undefined : soonestCertificate(l.results);
    const min = soonest?.certificate == null ? null : soonest.certificate.daysLeft;
    const when = soonest?.certificate == null ? null : expiryText(soonest.certificate, soonest.checkedAt);
    return { t, status: l?.status ?? 'unchecked', min, when };
  });
  rows.sort((a, b) => (a.min ?? Infinity) - (b.min ?? Infinity) || a.t.id.localeCompare(b.t.id));
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.status, (counts.get(r.status) ?? 0) + 1);
  const items = rows.slice(0, 50).map((r) => `${r.status.toUpperCase()} ${displayName(r.t)}: ${r.when ?? 'no certificate'} [${r.t.id}]`);
  if (rows.length > 50) items.push(`... and ${rows.length - 50} more`);
  const worst = ['error', 'critical', 'warning'].find((s) => counts.has(s));
  return {
    title: `Certificate digest: ${targets.length} target${targets.length === 1 ? '' : 's'}`,
    status: worst === undefined ? 'ok' : (worst as Reply['status']),
    text: [[...counts].map(([s, n]) => `${n} ${s}`).join(', ')],
    items,
  };
}

function record(id: string, channelId = 'C1'): TargetRecord {
  return { id, target: parseTarget(`${id}.example.com`), channel: { platform: 'slack', channelId }, addedBy: { id: 'u' }, addedAt: new Date(NOW).toISOString() };
}

/** A deterministic pseudo-random generator (tests must be repeatable). */
function lcg(seed: number): () => number {
  let x = seed;
  return () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32);
}

function latestFor(id: string, rnd: () => number): LatestResults | undefined {
  if (rnd() < 0.1) return undefined;
  const status = (['ok', 'warning', 'critical', 'error'] as Status[])[Math.floor(rnd() * 4)]!;
  const certs = Math.floor(rnd() * 3);
  const results = Array.from({ length: certs }, () => ({ certificate: rnd() < 0.8 ? { daysLeft: Math.floor(rnd() * 40) - 5 } : null }));
  return { targetId: id, checkedAt: new Date(NOW).toISOString(), status, results } as unknown as LatestResults;
}

test('digest: the bounded digest equals the full sort for small and large channels, in any input order', () => {
  for (const [seed, n] of [[1, 0], [2, 1], [3, 7], [4, 50], [5, 51], [6, 400], [7, 3000]] as const) {
    const rnd = lcg(seed);
    const targets = Array.from({ length: n }, (_, i) => record(`t${String(Math.floor(rnd() * 1e6)).padStart(6, '0')}x${i}`));
    const latest = new Map<string, LatestResults>();
    for (const t of targets) {
      const l = latestFor(t.id, rnd);
      if (l !== undefined) latest.set(t.id, l);
    }
    assert.deepEqual(digestReply(targets, latest), referenceDigest(targets, latest), `seed ${seed}, ${n} targets`);
    assert.deepEqual(digestReply([...targets].reverse(), latest), referenceDigest(targets, latest), `seed ${seed} reversed`);
  }
});

test('digest: postDigest pages through the targets instead of listing every record', async () => {
  const store = await openStore({ storeUrl: 'memory://', replicaId: 'r1', defaults: { thresholds: [30], failAfter: 2, digest: false }, onInvalid: () => {} });
  for (let i = 0; i < 1100; i += 100) {
    await Promise.all(Array.from({ length: 100 }, (_, j) => store.repo.addTarget(record(`t${String(i + j).padStart(5, '0')}`, (i + j) % 3 === 0 ? 'C1' : 'C2'))));
  }
  await store.repo.setChannelSettings({ platform: 'slack', channelId: 'C1' }, { thresholds: [30], failAfter: 2, digest: true });
  const pages: number[] = [];
  const getTargets = store.repo.getTargets.bind(store.repo);
  store.repo.getTargets = async (ids) => {
    pages.push(ids.length);
    return getTargets(ids);
  };
  store.repo.listTargets = () => Promise.reject(new Error('the digest must not list every record'));
  const outbox = new OutboxStore(store.kv, store.repo.index);
  assert.equal(await postDigest({ repo: store.repo, outbox }, new Date(NOW)), 1);
  assert.deepEqual(pages, [500, 500, 100]);
  const [entry] = await outbox.pending();
  assert.equal(entry?.channel.channelId, 'C1');
  assert.equal(entry?.message.title, 'Certificate digest: 367 targets');
  assert.equal(entry?.message.items?.length, 51);
  assert.equal(entry?.message.items?.at(-1), '... and 317 more');
});
