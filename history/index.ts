import type { FleetReport } from '../scanner/scan.js';
import { headCommit } from './git.js';
import { recordRun, type RecordedRun, type RunMeta } from './record.js';
import { openStore, type OpenOptions, type Store } from './store.js';

/**
 * The history store's entry point for applications (scan, watch, rollout):
 *
 *   const history = await openHistory(url);          // a file path, or postgres://…
 *   await history.recordRun(report, { commit });     // one transaction per run (or shard)
 *   await history.close();
 *
 * Every failure is a HistoryError (kind: locked, full, unreachable, corrupt, newer-schema, usage, failed) whose
 * message is fit for an operator and holds no password.
 */

export interface History {
  readonly store: Store;
  recordRun(report: FleetReport, meta?: RunMeta): Promise<RecordedRun>;
  close(): Promise<void>;
}

export async function openHistory(url: string, opts: OpenOptions = {}): Promise<History> {
  const store = await openStore(url, opts);
  return {
    store,
    recordRun: (report, meta) => recordRun(store, report, meta),
    close: () => store.close(),
  };
}

export { headCommit } from './git.js';
export { fingerprint, parseDuration, recordRunStream, resourceKey, type RecordedRun, type RunHead, type RunMeta } from './record.js';
export { HistoryError, redactUrl, type HistoryErrorKind, type OpenOptions } from './store.js';
export { listRuns, trend, diffRuns, resolveRun, findingsSince, type FindingsWindow, type RunDiff, type Trend, type RunInfo } from './queries.js';
export { lineChart, fleetSeries } from './html.js';
export { recordScan, type HtmlHistory, type StreamedRun } from './scan-hook.js';
/** The config repo's commit for a fleet (null when the repo is not in git). */
export const configCommit = (repo: string) => headCommit(repo);
