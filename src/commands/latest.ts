import type { LatestResults, TargetRepository } from '../core/services.ts';

/** Latest results for many targets, batched when the repository can (10,000 targets: one query per 500, not 10,000). */
export async function latestFor(repo: TargetRepository, ids: readonly string[]): Promise<Map<string, LatestResults>> {
  if (repo.getLatestMany !== undefined) return repo.getLatestMany(ids);
  const rows = await Promise.all(ids.map(async (id) => [id, await repo.getLatest(id)] as const));
  return new Map(rows.filter((r): r is readonly [string, LatestResults] => r[1] !== undefined));
}
