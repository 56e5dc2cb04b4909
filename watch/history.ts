import type { History } from '../history/index.js';
import type { FleetReport } from '../scanner/scan.js';

/**
 * `watch --history URL`: the watch's current fleet report is recorded in the history store every interval, and
 * once more when the watch stops, so trends and `history diff` see the watch as they see nightly scans.
 *
 * - Nothing is recorded before every cluster has synced once (or failed with a reason): a half-synced fleet would
 *   show as a fleet of unreachable clusters in the trend.
 * - Records are taken at the interval's boundaries (wall clock, e.g. :00, :05, … for 5m). On a sharded watch the
 *   run id is the boundary and the config commit, so the replicas' shards join into one run per interval, as the
 *   pods of a sharded scan do.
 * - A record that fails is logged and counted, and the next interval tries again; the watch goes on.
 * - One record at a time: a slow store skips a boundary rather than piling writes up.
 */

export interface HistoryRecorderOptions {
  history: Pick<History, 'recordRun' | 'close'>;
  intervalMs: number;
  report: () => FleetReport;
  ready: () => boolean;
  /** The config repo's commit now (it moves while the watch runs). */
  commit: () => Promise<string | null>;
  sharded: boolean;
  keepMs?: number;
  log: (msg: string, fields?: Record<string, unknown>) => void;
  /** Told about each attempt (a metric). */
  written?: (result: 'ok' | 'error' | 'skipped') => void;
}

export class HistoryRecorder {
  private timer?: NodeJS.Timeout;
  private writing?: Promise<void>;
  private stopped = false;

  constructor(private readonly o: HistoryRecorderOptions) {}

  start(): void {
    this.arm();
  }

  /** The next boundary of the interval, by the wall clock. */
  private arm(): void {
    if (this.stopped) return;
    const now = Date.now();
    const next = Math.floor(now / this.o.intervalMs) * this.o.intervalMs + this.o.intervalMs;
    this.timer = setTimeout(() => {
      void this.record(new Date(next));
      this.arm();
    }, next - now);
    this.timer.unref();
  }

  /** Records the current report (at `time`, a boundary, or now at shutdown). */
  record(time = new Date()): Promise<void> {
    if (this.writing) {
      this.o.written?.('skipped');
      this.o.log('history: the previous record is still being written; this one is skipped', { time: time.toISOString() });
      return this.writing;
    }
    if (!this.o.ready()) {
      this.o.written?.('skipped');
      this.o.log('history: not every cluster has synced yet; nothing recorded', { time: time.toISOString() });
      return Promise.resolve();
    }
    this.writing = (async () => {
      try {
        const commit = await this.o.commit();
        const runId = this.o.sharded ? `watch-${time.toISOString().slice(0, 16).replace(/[-:]/g, '')}Z-${commit ? commit.slice(0, 12) : 'no-commit'}` : undefined;
        const rec = await this.o.history.recordRun(this.o.report(), { commit, time, ...(runId ? { runId } : {}), ...(this.o.keepMs ? { keepMs: this.o.keepMs } : {}) });
        this.o.written?.('ok');
        this.o.log('history: run recorded', { run: rec.run, shard: rec.shard, clusters: rec.clusters, findings: rec.findings, ...(rec.deletedRuns ? { deletedRuns: rec.deletedRuns } : {}) });
      } catch (err) {
        this.o.written?.('error');
        this.o.log('history: the run could not be recorded', { error: (err as Error).message });
      } finally {
        this.writing = undefined;
      }
    })();
    return this.writing;
  }

  /** Stops the timer, waits for a write in flight, records once more and closes the store. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.writing;
    await this.record();
    await this.o.history.close().catch(() => undefined);
  }
}
