/**
 * History store benchmark (not a test), on the scan benchmark's fleet (847 clusters x ~500 objects, bench/scan.ts):
 *   1. write cost: the scan alone (--runs times), then its run written into a new store (--runs times);
 *   2. 90 nightly runs written into one store: the real report with a realistic churn each night (--churn P: P% of
 *      each cluster's findings absent, a different P% each night, so P% resolve and P% come back; 0.2% of the findings
 *      move to a new path each night: new findings, resolved the next night; a quarter of the drift fixed, scores
 *      moved); the write time of each night and the store's size after the first night and after the last;
 *   3. answers over those runs: `trend` of all runs, `diff` of the last two and of the first and last, through the API
 *      and as a CLI process.
 * Usage: npx tsc -p . && node dist/bench/history-bench.js [--runs 3] [--nights 90] [--clusters 847] [--churn 1]
 *   [--store sqlite|postgres] [--report FILE] [--save-report FILE] [--sample K]
 * `--store postgres` runs the same on a throwaway PostgreSQL server started as the tests start it
 * (test/helpers/postgres.ts: initdb, fsync off, TCP on 127.0.0.1), one fresh database per store; size is
 * pg_database_size. `--report FILE`: that saved report (`--save-report FILE` writes one) instead of a scan (no scan
 * timing). `--sample K` keeps every K-th finding of each cluster (for many runs of all clusters, cheaply: trend and
 * diff over them; the write cost is the full report's).
 * The result is one JSON line on standard output (trend and diff with their wall time, `trendMs` …, and this process's
 * CPU time, `trendCpuMs` …); progress on standard error.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { diffRuns, listRuns, openHistory, trend } from '../history/index.js';
import { builtinPolicies } from '../policies/index.js';
import { DesiredState, loadLayers } from '../scanner/desired.js';
import { loadFleet } from '../scanner/fleet.js';
import { formatJson } from '../scanner/report.js';
import { scanFleet, type FleetReport } from '../scanner/scan.js';
import { generate, OUT } from './scan.js';
import { sql } from 'kysely';
import { startPostgres, type PgServer } from '../test/helpers/postgres.js';

const args = process.argv.slice(2);
const flag = (name: string, d: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : d);
const RUNS = flag('--runs', 3);
const NIGHTS = flag('--nights', 90);
const CLUSTERS = flag('--clusters', 847);
const CHURN = flag('--churn', 1);
const REPORT = args.includes('--report') ? args[args.indexOf('--report') + 1] : undefined;
/** Write the scanned report to this file (for later runs with --report). */
const SAVE = args.includes('--save-report') ? args[args.indexOf('--save-report') + 1] : undefined;
/** Keep every SAMPLE-th finding of each cluster: a cheap store of many runs (trend, diff), not the write cost. */
const SAMPLE = flag('--sample', 1);
const ENGINE = args.includes('--store') ? args[args.indexOf('--store') + 1] : 'sqlite';
if (ENGINE !== 'sqlite' && ENGINE !== 'postgres') throw new Error(`--store must be sqlite or postgres (got ${ENGINE})`);
const BIN = fileURLToPath(new URL('../../bin/fleetgate', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
/** This process's CPU time (user + system, every thread) since `c0`: on a loaded machine the figure wall time is not. */
const cpuMs = (c0: NodeJS.CpuUsage) => {
  const d = process.cpuUsage(c0);
  return (d.user + d.system) / 1e3;
};
const log = (s: string) => process.stderr.write(`${s}  (load ${loadavg()[0].toFixed(1)})\n`);
const load = () => Math.round(loadavg()[0] * 10) / 10;

async function scanOnce(): Promise<FleetReport> {
  const fleet = await loadFleet(join(OUT, 'fleet.yaml'));
  const layers = await loadLayers(fleet);
  const report = await scanFleet(fleet, { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 8 });
  formatJson(report);
  return report;
}

/**
 * Night n's report: the same fleet with CHURN% of each cluster's findings absent (a different CHURN% each night),
 * 0.2% moved to a path of that night (new findings), a quarter of the drift fixed, scores moved (deterministic).
 */
function night(base: FleetReport, n: number): FleetReport {
  const period = Math.max(1, Math.round(100 / CHURN));
  const clusters = base.clusters.map((c, ci) => {
    const findings = c.findings.filter((_, i) => (i + ci) % period !== n % period).map((f, i) => ((i * 7 + ci) % 500 === n % 500 ? { ...f, path: `${f.path}#${n}` } : f));
    const drift = c.drift.filter((_, i) => (i + n) % 4 !== 0);
    const score = c.score === null ? null : Math.max(0, Math.min(100, Math.round((c.score - ((n * 7 + ci) % 13) / 10) * 10) / 10));
    return { ...c, findings, drift, score };
  });
  return { ...base, clusters };
}

/** Where each store of the benchmark lives, and how big it is: a file in `dir`, or a database of a throwaway server. */
interface Stores {
  url(name: string): string;
  bytes(url: string): Promise<number>;
}

function sqliteStores(dir: string): Stores {
  return {
    url: (name) => {
      mkdirSync(join(dir, name), { recursive: true });
      return join(dir, name, 'history.db');
    },
    bytes: async (url) => {
      if (!existsSync(url)) return 0;
      // The WAL folded into the file first, so the size is the store's, not the log's.
      const Db = (await import('better-sqlite3')).default;
      const raw = new Db(url);
      raw.pragma('wal_checkpoint(TRUNCATE)');
      raw.close();
      return readdirSync(join(url, '..')).reduce((s, f) => s + statSync(join(url, '..', f)).size, 0);
    },
  };
}

function postgresStores(pg: PgServer): Stores {
  return {
    url: (name) => pg.newDatabase(name.replace(/[^a-z0-9_]/g, '_')),
    bytes: async (url) => {
      const h = await openHistory(url);
      try {
        const r = await sql<{ n: string }>`select pg_database_size(current_database()) as n`.execute(h.store.db);
        return Number(r.rows[0].n);
      } finally {
        await h.close();
      }
    },
  };
}

/** 1. The scan alone (unless a saved report is given), and its run written into a new store, --runs times each. */
async function writeCost(stores: Stores): Promise<{ report: FleetReport; scanMs: number[]; scanCpu: number[]; recordNewMs: number[]; recordNewCpu: number[] }> {
  const scanMs: number[] = [];
  const scanCpu: number[] = [];
  let report = REPORT ? (JSON.parse(readFileSync(REPORT, 'utf8')) as FleetReport) : undefined;
  for (let i = 0; i < RUNS && !REPORT; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    report = await scanOnce();
    scanMs.push(ms(t0));
    scanCpu.push(cpuMs(c0));
    log(`scan ${i + 1}: ${scanMs[i].toFixed(0)} ms (CPU ${scanCpu[i].toFixed(0)} ms)`);
  }
  if (SAVE) writeFileSync(SAVE, JSON.stringify(report));
  if (SAMPLE > 1) report = { ...report!, clusters: report!.clusters.map((c) => ({ ...c, findings: c.findings.filter((_, i) => i % SAMPLE === 0) })) };
  const recordNewMs: number[] = [];
  const recordNewCpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const h = await openHistory(stores.url(`cost_${i}`));
    await h.recordRun(report!, { commit: 'a'.repeat(40) });
    await h.close();
    recordNewMs.push(ms(t0));
    recordNewCpu.push(cpuMs(c0));
    log(`record ${i + 1} into a new store: ${recordNewMs[i].toFixed(0)} ms (CPU ${recordNewCpu[i].toFixed(0)} ms)`);
  }
  return { report: report!, scanMs, scanCpu, recordNewMs, recordNewCpu };
}

/** 2. NIGHTS nightly runs into one store; each night's write time and the store's size after night 1 and at the end. */
async function writeNights(stores: Stores, base: FleetReport, file: string) {
  const emptyBytes = await stores.bytes(file);
  const h = await openHistory(file);
  const nightMs: number[] = [];
  const nightCpu: number[] = [];
  const loads: number[] = [];
  let firstBytes = 0;
  for (let n = 0; n < NIGHTS; n++) {
    const report = night(base, n);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await h.recordRun(report, { commit: (n + 1).toString(16).padStart(40, '0'), time: new Date(Date.UTC(2026, 0, 1 + n, 2)), runId: `night-${n}` });
    nightMs.push(ms(t0));
    nightCpu.push(cpuMs(c0));
    loads.push(load());
    log(`night ${n + 1}/${NIGHTS}: ${nightMs[n].toFixed(0)} ms (CPU ${nightCpu[n].toFixed(0)} ms)`);
    if (n === 0) firstBytes = await stores.bytes(file);
    if (n === 0 || n === NIGHTS - 1 || n % 5 === 4) log(`  store ${(await stores.bytes(file)) / 1e6} MB after ${n + 1} nights`);
  }
  await h.close();
  const totalBytes = await stores.bytes(file);
  return { emptyBytes, firstBytes, totalBytes, nightMs, nightCpu, loads };
}

/** 3. trend of every run, diff of the last two and of the first and last (API, median of 5), and as CLI processes. */
async function answers(file: string) {
  const q = await openHistory(file);
  const trendMs: number[] = [];
  const diffMs: number[] = [];
  const spanMs: number[] = [];
  // CPU of this process alongside: what the answer costs on a loaded machine (SQLite works in-process; PostgreSQL's
  // server is another process, so there it is the client's share only).
  const cpu = { trend: [] as number[], diff: [] as number[], span: [] as number[] };
  let diffChanges = 0;
  let spanChanges = 0;
  try {
    for (let i = 0; i < 5; i++) {
      let t0 = process.hrtime.bigint();
      let c0 = process.cpuUsage();
      const t = await trend(q.store);
      trendMs.push(ms(t0));
      cpu.trend.push(cpuMs(c0));
      if (t.runs.length !== NIGHTS) throw new Error(`trend saw ${t.runs.length} runs`);
      t0 = process.hrtime.bigint();
      c0 = process.cpuUsage();
      const runs = await listRuns(q.store);
      const d = await diffRuns(q.store, runs[runs.length - 2], runs[runs.length - 1]);
      diffMs.push(ms(t0));
      cpu.diff.push(cpuMs(c0));
      diffChanges = d.newFindings.length + d.resolvedFindings.length;
      t0 = process.hrtime.bigint();
      c0 = process.cpuUsage();
      const w = await diffRuns(q.store, runs[0], runs[runs.length - 1]);
      spanMs.push(ms(t0));
      cpu.span.push(cpuMs(c0));
      spanChanges = w.newFindings.length + w.resolvedFindings.length;
    }
  } finally {
    await q.close();
  }
  const cli = (sub: string[]) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = process.hrtime.bigint();
      execFileSync(process.execPath, [BIN, 'history', ...sub, '--history', file, '--format', 'json'], { maxBuffer: 1 << 30, env: { ...process.env, NODE_OPTIONS: '' } });
      times.push(ms(t0));
    }
    return Math.round(median(times));
  };
  const cpuOf = (xs: number[]) => Math.round(median(xs));
  return {
    trendCpuMs: cpuOf(cpu.trend),
    diffCpuMs: cpuOf(cpu.diff),
    diffFirstLastCpuMs: cpuOf(cpu.span),
    trendMs: Math.round(median(trendMs)),
    diffMs: Math.round(median(diffMs)), diffChanges, diffFirstLastMs: Math.round(median(spanMs)), diffFirstLastChanges: spanChanges, cliTrendMs: cli(['trend']), cliDiffMs: cli(['diff']) };
}

async function main(): Promise<void> {
  if (!REPORT) {
    log(`generating ${CLUSTERS} clusters into ${OUT} (once)...`);
    await generate(CLUSTERS);
  }
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-history-bench-'));
  const teardown: (() => unknown)[] = [];
  const stores = ENGINE === 'postgres' ? postgresStores(await startPostgres({ teardown: (fn) => teardown.push(fn) })) : sqliteStores(dir);
  // Interrupted: stop the throwaway server too.
  process.once('SIGTERM', () => {
    for (const fn of teardown) fn();
    process.exit(143);
  });
  try {
    const loadStart = load();
    const cost = await writeCost(stores);
    const file = stores.url('nights');
    const nights = await writeNights(stores, cost.report, file);
    const a = await answers(file);
    const scan = cost.scanMs.length ? Math.round(median(cost.scanMs)) : null;
    const nightly = Math.round(median(nights.nightMs.slice(1)));
    const out = {
      store: ENGINE,
      clusters: cost.report.clusters.length,
      findingsPerRun: cost.report.clusters.reduce((s, c) => s + c.findings.length, 0),
      driftPerRun: cost.report.clusters.reduce((s, c) => s + c.drift.length, 0),
      churnPercent: CHURN,
      sample: SAMPLE,
      runs: RUNS,
      scanMs: scan,
      recordNewMs: Math.round(median(cost.recordNewMs)),
      recordNightMedianMs: nightly,
      recordNightMaxMs: Math.round(Math.max(...nights.nightMs.slice(1))),
      nightRatio: scan ? Math.round((nightly / scan) * 1000) / 1000 : null,
      scanCpuMs: cost.scanCpu.length ? Math.round(median(cost.scanCpu)) : null,
      recordNewCpuMs: Math.round(median(cost.recordNewCpu)),
      recordNightCpuMedianMs: Math.round(median(nights.nightCpu.slice(1))),
      nightCpuRatio: cost.scanCpu.length ? Math.round((median(nights.nightCpu.slice(1)) / median(cost.scanCpu)) * 1000) / 1000 : null,
      newRatio: scan ? Math.round((median(cost.recordNewMs) / scan) * 1000) / 1000 : null,
      nights: NIGHTS,
      storeBytesEmpty: nights.emptyBytes,
      storeBytesAfterFirstRun: nights.firstBytes,
      storeBytesTotal: nights.totalBytes,
      storeBytesPerFurtherRun: Math.round((nights.totalBytes - nights.firstBytes) / Math.max(1, NIGHTS - 1)),
      ...a,
      peakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
      loadStart,
      loadDuringNights: [Math.min(...nights.loads), Math.max(...nights.loads)],
      loadEnd: load(),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    for (const fn of teardown) await fn();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
