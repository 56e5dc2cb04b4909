import { setFlagsFromString } from 'node:v8';

/**
 * How far V8 lets a heap grow past what survived its last full collection, for the scan (issue #17: peak memory
 * that does not grow with the fleet). By default V8 picks a factor between 1.1 and 4 from how fast the program
 * allocates against how fast it collects; a scan allocates fast all along (snapshots parsed, reports serialized,
 * the fleet pass reading every cluster's index back ~7 times), so it gets 4: the fleet pass of 4,000 clusters let
 * the main thread's old space reach ~190 MB over ~42 MB that survived (the pass's cache and per-cluster state), and
 * the worker threads 60 MB over 11. A fixed 1.5 keeps each heap within half of its live data (plus V8's minimum
 * step of a few MB), at the cost of more frequent full collections, most of them concurrent.
 *
 * The flag is read at every full collection, so it is set when the scan starts (`node --heap-growing-percent=N`
 * given on the command line wins). It is V8's, process-wide: the scan's worker threads get it too.
 */
export const SCAN_HEAP_GROWING_PERCENT = 50;

export function boundHeapGrowth(percent = SCAN_HEAP_GROWING_PERCENT, execArgv: readonly string[] = process.execArgv): boolean {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent\b/.test(a))) return false;
  setFlagsFromString(`--heap-growing-percent=${percent}`);
  return true;
}
