/** Called after each item finishes: how many are done out of how many. */
export type OnSettled<T, R> = (done: number, total: number, item: T, result: R) => void;

/**
 * Maps `items` through `fn` with at most `limit` calls in flight; results keep input order.
 * Workers pull the next index as they finish, so one slow item never stalls the others
 * (unlike fixed batches). `fn` must not throw for an expected failure: a probe returns an
 * error result instead; a throw here is a bug and rejects the whole map.
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
  onSettled?: OnSettled<T, R>,
): Promise<R[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  const results = new Array<R>(items.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const item = items[index] as T;
      let result: R;
      try {
        result = await fn(item, index);
      } catch (err) {
        next = items.length; // stop the other workers from starting more work
        throw err;
      }
      results[index] = result;
      done++;
      onSettled?.(done, items.length, item, result);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
