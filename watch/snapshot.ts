import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { ClusterReadError } from '../scanner/live/index.js';
import { readSnapshot } from '../scanner/scan.js';
import type { Source, WatchedCluster } from './cluster.js';

/**
 * A snapshot cluster: its folder is read as `scan` reads it, and read again (debounced) whenever a file in it
 * changes — edits in place, new files, deletions, editors that save by rename. A folder that cannot be read makes
 * the cluster `down` with the reason, and it is tried again every few seconds until it can.
 */
export class SnapshotSource implements Source {
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;
  private reading: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(
    private readonly wc: WatchedCluster,
    private readonly dir: string,
    private readonly debounceMs = 200,
    private readonly retryMs = 3000,
  ) {}

  start(): void {
    this.resync();
  }

  resync(): void {
    if (this.stopped) return;
    clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.reading = this.reading.then(() => this.read());
    }, this.debounceMs);
    this.debounce.unref();
  }

  private async read(): Promise<void> {
    if (this.stopped) return;
    this.ensureWatcher();
    try {
      const live = await readSnapshot(this.dir);
      await this.wc.replaceAll(live.objects, live.warnings);
    } catch (err) {
      const status = err instanceof ClusterReadError ? err.status : 'error';
      this.wc.failed('snapshot', err instanceof Error ? err.message : String(err), status);
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.resync(), this.retryMs);
      this.retry.unref();
    }
  }

  private ensureWatcher(): void {
    if (this.watcher) return;
    try {
      this.watcher = fsWatch(this.dir, { recursive: true }, () => this.resync());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined; // the folder went away: the next read reports it and watches again
        this.resync();
      });
    } catch {
      /* not there yet: read() reports it and retries */
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.debounce);
    clearTimeout(this.retry);
    this.watcher?.close();
    await this.reading;
  }
}
