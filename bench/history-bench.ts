/**
 * History store benchmark (not a test), on the scan benchmark's fleet (847 clusters x ~500 objects, bench/scan.ts):
 *   1. scan cost: the scan alone vs the scan + writing its run into a new embedded store, alternately, --runs times;
 *   2. 90 nightly runs: the real report, changed a little each night (about 10% of findings come and go, some
 *      drift is fixed, scores move), written into one embedded store; the store's size per run;
 *   3. answers over those 90 runs: `trend` and `diff` of the last two, through the API and as a CLI process.
 * Usage: npx tsc -p . && node dist/bench/history-bench.js [--runs 3] [--nights 90] [--clusters 847] [--store sqlite|postgres]
 * `--store postgres` runs the same on a throwaway PostgreSQL server started as the tests start it
 * (test/helpers/postgres.ts: initdb, fsync off, TCP on 127.0.0.1), one fresh database per store; size is
 * pg_database_size. `--record-only`: one scan, then its run written into --runs new stores (no scan-alone timing);
 * `--report FILE`: that saved scan report instead of a scan.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
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
/** Scan once and time only the writes (the scan-cost comparison is the embedded store's budget; skip it on a loaded machine). */
/** A saved `scan --format json` report to write instead of scanning (implies --record-only). */
const REPORT = args.includes('--report') ? args[args.indexOf('--report') + 1] : undefined;
const RECORD_ONLY = args.includes('--record-only') || REPORT !== undefined;
const ENGINE = args.includes('--store') ? args[args.indexOf('--store') + 1] : 'sqlite';
if (ENGINE !== 'sqlite' && ENGINE !== 'postgres') throw new Error(`--store must be sqlite or postgres (got ${ENGINE})`);
const BIN = fileURLToPath(new URL('../../bin/fleetgate', import.meta.url));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const log = (s: string) => process.stderr.write(`${s}\n`);

function storeBytes(dir: string): number {
  return readdirSync(dir).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
}

async function scanOnce(): Promise<FleetReport> {
  const fleet = await loadFleet(join(OUT, 'fleet.yaml'));
  const layers = await loadLayers(fleet);
  const report = await scanFleet(fleet, { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 8 });
  formatJson(report);
  return report;
}

/** Night n's report: the same fleet with ~10% of the findings gone or new and some drift fixed (deterministic). */
function night(base: FleetReport, n: number): FleetReport {
  const clusters = base.clusters.map((c, ci) => {
    const findings = c.findings.filter((_, i) => (i + n + ci) % 10 !== 0).map((f, i) => ((i + n) % 23 === 0 ? { ...f, path: `${f.path}[${n % 5}]` } : f));
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
      execFileSync('mkdir', ['-p', join(dir, name)]);
      return join(dir, name, 'history.db');
    },
    bytes: async (url) => {
      if (!existsSync(url)) return 0;
      // The WAL folded into the file first, so the size is the store's, not the log's.
      const Db = (await import('better-sqlite3')).default;
      const raw = new Db(url);
      raw.pragma('wal_checkpoint(TRUNCATE)');
      raw.close();
      return storeBytes(join(url, '..'));
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
    // 1. The scan alone vs scan + record, alternately.
    const scanMs: number[] = [];
    const withMs: number[] = [];
    const recordMs: number[] = [];
    let report!: FleetReport;
    if (RECORD_ONLY) report = REPORT ? (JSON.parse(readFileSync(REPORT, 'utf8')) as FleetReport) : await scanOnce();
    for (let i = 0; i < RUNS && RECORD_ONLY; i++) {
      const t1 = process.hrtime.bigint();
      const h = await openHistory(stores.url(`cost_${i}`));
      await h.recordRun(report, { commit: 'a'.repeat(40) });
      await h.close();
      recordMs.push(ms(t1));
      log(`run ${i + 1}: record into a new store ${recordMs[i].toFixed(0)} ms`);
    }
    for (let i = 0; i < RUNS && !RECORD_ONLY; i++) {
      let t0 = process.hrtime.bigint();
      report = await scanOnce();
      scanMs.push(ms(t0));
      t0 = process.hrtime.bigint();
      const r = await scanOnce();
      const t1 = process.hrtime.bigint();
      const h = await openHistory(stores.url(`cost_${i}`));
      await h.recordRun(r, { commit: 'a'.repeat(40) });
      await h.close();
      recordMs.push(ms(t1));
      withMs.push(ms(t0));
      log(`run ${i + 1}: scan ${scanMs[i].toFixed(0)} ms; scan + record ${withMs[i].toFixed(0)} ms (record ${recordMs[i].toFixed(0)} ms)`);
    }
    const findings = report.clusters.reduce((s, c) => s + c.findings.length, 0);
    const drift = report.clusters.reduce((s, c) => s + c.drift.length, 0);

    // 2. Ninety nightly runs into one store.
    const file = stores.url('nights');
    const emptyBytes = await stores.bytes(file);
    const h = await openHistory(file);
    const nightMs: number[] = [];
    const sizes: number[] = [];
    for (let n = 0; n < NIGHTS; n++) {
      if (n % 10 === 0) log(`night ${n}/${NIGHTS}…`);
      const t0 = process.hrtime.bigint();
      await h.recordRun(night(report, n), { commit: (n + 1).toString(16).padStart(40, '0'), time: new Date(Date.UTC(2026, 0, 1 + n, 2)), runId: `night-${n}` });
      nightMs.push(ms(t0));
      if (n === 0) sizes.push(await stores.bytes(file));
    }
    await h.close();
    const total = await stores.bytes(file);

    // 3. Answers over the 90 runs.
    const q = await openHistory(file);
    const trendMs: number[] = [];
    const diffMs: number[] = [];
    let diffSize = 0;
    for (let i = 0; i < 5; i++) {
      let t0 = process.hrtime.bigint();
      const t = await trend(q.store);
      trendMs.push(ms(t0));
      if (t.runs.length !== NIGHTS) throw new Error(`trend saw ${t.runs.length} runs`);
      t0 = process.hrtime.bigint();
      const runs = await listRuns(q.store);
      const d = await diffRuns(q.store, runs[runs.length - 2], runs[runs.length - 1]);
      diffMs.push(ms(t0));
      diffSize = d.newFindings.length + d.resolvedFindings.length;
    }
    await q.close();
    const cli = (sub: string[]) => {
      const times: number[] = [];
      for (let i = 0; i < 3; i++) {
        const t0 = process.hrtime.bigint();
        execFileSync(process.execPath, [BIN, 'history', ...sub, '--history', file, '--format', 'json'], { maxBuffer: 256 << 20, env: { ...process.env, NODE_OPTIONS: '' } });
        times.push(ms(t0));
      }
      return median(times);
    };
    const out = {
      store: ENGINE,
      clusters: report.clusters.length,
      findingsPerRun: findings,
      driftPerRun: drift,
      runs: RUNS,
      ...(RECORD_ONLY ? {} : { scanMs: Math.round(median(scanMs)), scanAndRecordMs: Math.round(median(withMs)), ratio: Math.round((median(withMs) / median(scanMs)) * 1000) / 1000 }),
      recordMs: Math.round(median(recordMs)),
      nights: NIGHTS,
      recordNightMedianMs: Math.round(median(nightMs)),
      storeBytesEmpty: emptyBytes,
      storeBytesAfterFirstRun: sizes[0],
      storeBytesTotal: total,
      storeBytesPerRun: Math.round(total / NIGHTS),
      trendMs: Math.round(median(trendMs)),
      diffMs: Math.round(median(diffMs)),
      diffChanges: diffSize,
      cliTrendMs: Math.round(cli(['trend'])),
      cliDiffMs: Math.round(cli(['diff'])),
    };
    process.stdout.write(`${JSON.stringify(out)}\n`);
  } finally {
    for (const fn of teardown) await fn();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
