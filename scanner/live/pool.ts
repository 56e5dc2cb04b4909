/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight; results keep the order of `items`.
 * `fn` is expected to handle its own failures (a cluster that fails is a result, not an exception).
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const n = Math.max(1, Math.min(items.length, Math.floor(concurrency) || 1));
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  return results;
}
