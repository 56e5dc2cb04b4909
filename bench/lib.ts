import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** Small helpers every benchmark shares: timing whole processes, medians, and a description of the machine. */

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface ProcessRun {
  ms: number;
  code: number | null;
  /** Peak resident set size of the child, in MiB (from /usr/bin/time when available). */
  maxRssMb?: number;
}

/** Runs a command to completion and measures its wall time (and peak RSS through GNU time when installed). */
export function timeProcess(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): ProcessRun {
  const gnuTime = spawnSync('/usr/bin/time', ['--version'], { encoding: 'utf8' }).status === 0;
  const start = process.hrtime.bigint();
  const r = gnuTime
    ? spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8', env, maxBuffer: 1 << 30 })
    : spawnSync(cmd, args, { encoding: 'utf8', env, maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  let maxRssMb: number | undefined;
  if (gnuTime) {
    const lines = (r.stderr ?? '').trim().split('\n');
    const kb = Number(lines[lines.length - 1]);
    if (Number.isFinite(kb)) maxRssMb = kb / 1024;
  }
  return { ms, code: r.status, maxRssMb };
}

export function machine(): string {
  return `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}
