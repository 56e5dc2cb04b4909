import { defaultSource, type ClusterSource } from '../../scanner/scan.js';

/**
 * A cluster source for `scan --jobs` tests (streamScan's `workers.source`: a module a worker thread imports): fra01
 * ends the worker thread that reads it (as a crash would), ams01 fails to read with an error; every other cluster
 * is read as the scan reads it.
 */
export const source: ClusterSource = async (cluster, ctx) => {
  if (cluster.name === 'fra01') process.exit(7); // in a worker thread: ends that thread only
  if (cluster.name === 'ams01') throw new Error('reader failed on purpose (token=s3cr3t-value)');
  return defaultSource(cluster, ctx);
};
