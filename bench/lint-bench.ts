import { readFile, rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { generateManifests } from './generate-manifests.js';
import { machine, median, timeProcess } from './lib.js';

/**
 * Lint at growing sizes: `fleetgate lint` over generated objects in multi-document files of 100 objects (whole
 * process, JSON report to a file, every built-in policy, every finding located to file:line:column) against plain
 * `yaml` parsing of the same files (also a whole process, `bench/yaml-parse-baseline.ts`), run alternately so both
 * see the same machine state. For each size: median wall time of each, their ratio, and the median peak RSS of
 * each (GNU time); at the largest size one SARIF run for its peak RSS. Then the growth per object between sizes.
 * Targets (issue #17): time ≤ 1.3× at 10k objects, peak RSS ≤ 3× the baseline's at 50k.
 * `--compare DIR` also times and measures another built checkout's lint (DIR/bin/fleetgate) in the same rounds.
 *   node dist/bench/lint-bench.js [--sizes 1000,10000,50000] [--runs 3] [--compare /path/to/other/checkout]
 */
const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '1000,10000,50000' }, runs: { type: 'string', default: '3' }, compare: { type: 'string' } },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const root = fileURLToPath(new URL('../..', import.meta.url));
const out = `${root}bench/out`;

interface Row {
  objects: number;
  findings: number;
  lintMs: number;
  baselineMs: number;
  ratio: number;
  lintRssMiB: number;
  baselineRssMiB: number;
  rssRatio: number;
  sarifRssMiB?: number;
  compare?: { lintMs: number; ratio: number; lintRssMiB: number };
  loadavg: string;
}

const mib = (x: number | undefined) => Math.round(x ?? NaN);
const rows: Row[] = [];
for (const objects of sizes) {
  const dir = `${out}/lint-manifests-${objects}`;
  await rm(dir, { recursive: true, force: true });
  await generateManifests(dir, Math.max(1, Math.round(objects / 100)), Math.min(100, objects));
  const report = `${out}/lint-report-${objects}.json`;
  const lintArgs = [`${root}bin/fleetgate`, 'lint', dir, '--format', 'json', '--output', report];
  const baseArgs = [`${root}dist/bench/yaml-parse-baseline.js`, dir];
  timeProcess(process.execPath, baseArgs); // warm the file cache
  const load = [loadavg()[0]];
  const lint = { ms: [] as number[], rss: [] as number[] };
  const base = { ms: [] as number[], rss: [] as number[] };
  const other = { ms: [] as number[], rss: [] as number[] };
  for (let i = 0; i < runs; i++) {
    const b = timeProcess(process.execPath, baseArgs);
    base.ms.push(b.ms);
    base.rss.push(b.maxRssMb ?? NaN);
    const r = timeProcess(process.execPath, lintArgs);
    if (r.code !== 0 && r.code !== 1) throw new Error(`lint exited ${r.code}`);
    lint.ms.push(r.ms);
    lint.rss.push(r.maxRssMb ?? NaN);
    if (values.compare) {
      const o = timeProcess(process.execPath, [`${values.compare}/bin/fleetgate`, ...lintArgs.slice(1, 3), '--format', 'json', '--output', `${report}.compare`]);
      other.ms.push(o.ms);
      other.rss.push(o.maxRssMb ?? NaN);
    }
  }
  const summary = JSON.parse(await readFile(report, 'utf8')).summary;
  let sarifRssMiB: number | undefined;
  if (objects === Math.max(...sizes)) {
    const s = timeProcess(process.execPath, [...lintArgs.slice(0, 3), '--format', 'sarif', '--output', `${out}/lint-report-${objects}.sarif`]);
    sarifRssMiB = mib(s.maxRssMb);
  }
  load.push(loadavg()[0]);
  rows.push({
    objects: summary.objects,
    findings: summary.findings,
    lintMs: Math.round(median(lint.ms)),
    baselineMs: Math.round(median(base.ms)),
    ratio: +(median(lint.ms) / median(base.ms)).toFixed(2),
    lintRssMiB: mib(median(lint.rss)),
    baselineRssMiB: mib(median(base.rss)),
    rssRatio: +(median(lint.rss) / median(base.rss)).toFixed(2),
    sarifRssMiB,
    compare: values.compare
      ? { lintMs: Math.round(median(other.ms)), ratio: +(median(other.ms) / median(base.ms)).toFixed(2), lintRssMiB: mib(median(other.rss)) }
      : undefined,
    loadavg: load.map((x) => x.toFixed(1)).join(' → '),
  });
  await rm(dir, { recursive: true, force: true });
}

/** KiB of peak RSS per object added between two sizes. */
const growth = rows.slice(1).map((r, i) => {
  const p = rows[i];
  const per = (a: number, b: number) => +(((a - b) * 1024) / (r.objects - p.objects)).toFixed(2);
  return { from: p.objects, to: r.objects, lintKiBPerObject: per(r.lintRssMiB, p.lintRssMiB), baselineKiBPerObject: per(r.baselineRssMiB, p.baselineRssMiB) };
});
console.log(JSON.stringify({ machine: machine(), runs, rows, growth }, null, 2));
