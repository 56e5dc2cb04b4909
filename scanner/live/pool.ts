/**
 * Runs `fn` over `items` with at most `concurrency` calls in flight; results keep the order of `items`.
 * When a call throws, no further item is started, the calls in flight are awaited and the first error is thrown
 * (callers that want every item done handle failures inside `fn`: a cluster that fails is a result, not an exception).
 */
export async function mapWithConcurrency<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  let failure: unknown;
  const n = Math.max(1, Math.min(items.length, Math.floor(concurrency) || 1));
  const worker = async () => {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (err) {
        if (!failed) {
          failed = true;
          failure = err;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: n }, worker));
  if (failed) throw failure;
  return results;
}
