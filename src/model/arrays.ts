/**
 * Appends every item to `to`, in order. `to.push(...items)` passes each item as an argument, and past ~120,000
 * items (a folder of manifests, a test case's file of objects) that overflows the call stack.
 */
export function pushAll<T>(to: T[], items: Iterable<T>): T[] {
  for (const item of items) to.push(item);
  return to;
}
