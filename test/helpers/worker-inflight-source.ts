import { defaultSource, type ClusterSource } from '../../scanner/scan.js';

/**
 * A cluster source for `scan --jobs` tests (a module each worker thread imports): reads every cluster as the scan
 * does, after a pause that would let a second snapshot cluster handed to the same worker start meanwhile, and says
 * in the cluster's warnings how many snapshot clusters this worker was reading at once.
 */
let reading = 0;

export const source: ClusterSource = async (cluster, ctx) => {
  if (!('snapshot' in cluster.source)) return defaultSource(cluster, ctx);
  reading++;
  const atOnce = reading;
  try {
    await new Promise((r) => setTimeout(r, 30));
    const live = await defaultSource(cluster, ctx);
    return { ...live, warnings: [...live.warnings, `snapshots read at once in this worker: ${atOnce}`] };
  } finally {
    reading--;
  }
};
