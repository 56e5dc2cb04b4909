/**
 * Where a long scan is. On a terminal: a bar redrawn in place. Anywhere else (a CronJob's log, CI): one JSON line
 * per interval on standard error — clusters done and total, rate, ETA — so `kubectl logs` of an 847-cluster night
 * says how far it got, and log pipelines can read it (the same one-object-per-line shape as the webhook's logs).
 * The last line (done = total) is always written.
 */
export interface ProgressOptions {
  tty: boolean;
  write: (s: string) => void;
  /** Least time between two log lines off a terminal; 0 writes one per cluster. */
  intervalMs: number;
  now?: () => number;
}

export function progressReporter(opts: ProgressOptions): (done: number, total: number) => void {
  const now = opts.now ?? Date.now;
  const start = now();
  let last = -Infinity;
  if (opts.tty) {
    return (done, total) => {
      const w = 30;
      const n = Math.round((done / total) * w);
      opts.write(`\r[${'#'.repeat(n)}${'-'.repeat(w - n)}] ${done}/${total} clusters${done === total ? '\n' : ''}`);
    };
  }
  return (done, total) => {
    const t = now();
    if (done < total && t - last < opts.intervalMs) return;
    last = t;
    const elapsed = (t - start) / 1000;
    const rate = elapsed > 0 ? done / elapsed : 0;
    const line = {
      level: 'info',
      time: new Date(t).toISOString(),
      msg: done === total ? 'scan finished reading clusters' : 'scan progress',
      done,
      total,
      percent: Math.round((done / total) * 1000) / 10,
      elapsedSeconds: Math.round(elapsed * 10) / 10,
      clustersPerSecond: Math.round(rate * 100) / 100,
      etaSeconds: done === total ? 0 : rate > 0 ? Math.round((total - done) / rate) : null,
    };
    opts.write(`${JSON.stringify(line)}\n`);
  };
}
