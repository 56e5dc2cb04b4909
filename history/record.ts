import { createHash } from 'node:crypto';
import { groupOf, type Finding, type ResourceRef } from '../src/index.js';
import type { ClusterReport, FleetReport } from '../scanner/scan.js';
import { sql, type Insertable, type Transaction } from 'kysely';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/**
 * Writing one scan (or one shard of a scan) into the store, in one transaction: a run interrupted mid-write
 * leaves nothing behind, and writing the same shard of the same run again replaces it (a retried Job pod).
 *
 * Shards join into one run by run id: `--run-id ID` (the chart passes the Job's name), else, for a sharded scan,
 * the config commit and the UTC hour it started in (the pods of one Indexed Job start together), else a new id.
 */

export interface RunMeta {
  /** Config repo commit (git HEAD of the fleet's repo), when it is a git repo. */
  commit?: string | null;
  time?: Date;
  runId?: string;
  /** Retention: runs older than this many milliseconds are deleted in the same transaction. */
  keepMs?: number;
}

export interface RecordedRun {
  id: number;
  run: string;
  shard: number;
  clusters: number;
  findings: number;
  deletedRuns: number;
}

/** `group/Kind/namespace/name`: the version of an apiVersion is left out, so an API upgrade keeps fingerprints. */
export function resourceKey(r: ResourceRef): string {
  return `${groupOf(r.apiVersion)}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

/** Stable across runs: the same policy on the same field of the same object in the same cluster. */
export function fingerprint(cluster: string, f: Pick<Finding, 'policy' | 'resource' | 'path'>): string {
  return createHash('sha256').update(`${f.policy}\n${cluster}\n${resourceKey(f.resource)}\n${f.path}`).digest('hex').slice(0, 16);
}

export function runName(meta: RunMeta, sharded: boolean, time: Date): string {
  if (meta.runId) return meta.runId;
  const commit = meta.commit ? meta.commit.slice(0, 12) : 'no-commit';
  if (sharded) return `${time.toISOString().slice(0, 13)}-${commit}`;
  return `${time.toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z')}-${commit}`;
}

/** Rows per PostgreSQL statement: one array parameter per column, so the statement's text does not grow with it. */
const CHUNK = 20_000;

/** PostgreSQL array type of each column of the tables written in bulk (unnest needs them). */
const PG_TYPES: Partial<Record<keyof Database, Record<string, string>>> = {
  run_clusters: {
    run_id: 'int4',
    cluster: 'text',
    shard: 'int4',
    labels: 'text',
    status: 'text',
    error: 'text',
    score: 'float8',
    object_score: 'float8',
    desired: 'int4',
    in_sync: 'int4',
    findings: 'int4',
    drift: 'int4',
    seen: 'text',
  },
  findings: { fingerprint: 'text', cluster: 'text', policy: 'text', severity: 'text', resource: 'text', path: 'text', message: 'text' },
  run_drift: { run_id: 'int4', cluster: 'text', resource: 'text', ref: 'text', state: 'text', diffs: 'text' },
};

/**
 * Inserts many rows inside the open transaction. PostgreSQL: `INSERT … SELECT * FROM unnest($1::text[], …)`, one
 * array per column, so 36,000 findings are two statements with seven parameters each (a multi-row VALUES list of
 * 1,000 rows is 7,000 parameters that Kysely compiles and the server parses, per chunk). SQLite: one prepared
 * statement run per row on the store's only connection (the one the transaction holds): preparing a new multi-row
 * statement per chunk costs SQLite about ten times more than the inserts themselves.
 */
async function insertMany<T extends keyof Database>(
  store: Store,
  trx: Transaction<Database>,
  table: T,
  rows: Insertable<Database[T]>[],
  ignoreConflictOn?: string,
): Promise<void> {
  if (!rows.length) return;
  const cols = Object.keys(rows[0] as object);
  if (store.sqlite) {
    const stmt = store.sqlite.prepare(`insert ${ignoreConflictOn ? 'or ignore ' : ''}into "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) values (${cols.map(() => '?').join(', ')})`);
    for (const r of rows) stmt.run(cols.map((c) => (r as Record<string, unknown>)[c]));
    return;
  }
  const types = PG_TYPES[table];
  if (!types) throw new Error(`insertMany: no column types for ${table}`);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK) as Record<string, unknown>[];
    const arrays = cols.map((c) => sql`${chunk.map((r) => r[c] ?? null)}::${sql.raw(types[c])}[]`);
    const conflict = ignoreConflictOn ? sql` on conflict (${sql.ref(ignoreConflictOn)}) do nothing` : sql``;
    await sql`insert into ${sql.table(table)} (${sql.join(cols.map((c) => sql.ref(c)))}) select * from unnest(${sql.join(arrays)})${conflict}`.execute(trx);
  }
}

export async function recordRun(store: Store, report: FleetReport, meta: RunMeta = {}): Promise<RecordedRun> {
  return recordRunStream(store, { fleet: report.fleet, shard: report.shard, clusters: report.clusters.length }, report.clusters, meta);
}

/** What a run's header needs from the scan: its fleet file, its shard and how many clusters it has. */
export interface RunHead {
  fleet: string;
  shard?: { index: number; count: number };
  clusters: number;
}

/** Rows are written every this many clusters: a streamed scan never holds a whole run's rows. */
const CLUSTERS_PER_WRITE = 200;

/**
 * recordRun for a scan whose clusters stream by (scan --history, scan merge --history): the same rows, in the same
 * single transaction, written every CLUSTERS_PER_WRITE clusters instead of gathered first.
 */
export async function recordRunStream(
  store: Store,
  head: RunHead,
  clusters: Iterable<ClusterReport> | AsyncIterable<ClusterReport>,
  meta: RunMeta = {},
): Promise<RecordedRun> {
  const time = meta.time ?? new Date();
  const shard = head.shard?.index ?? 0;
  const shards = head.shard?.count ?? 1;
  const name = runName(meta, shards > 1, time);
  // SQLite rolls back by itself on some errors (SQLITE_FULL): the rollback Kysely then sends fails with "no
  // transaction is active", which must not hide the error that matters.
  let cause: unknown;
  const write = async (trx: Transaction<Database>): Promise<RecordedRun> => {
    await trx
      .insertInto('runs')
      .values({ name, time: time.toISOString(), commit: meta.commit ?? null, fleet: head.fleet, shards })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    const run = await trx.selectFrom('runs').select(['id']).where('name', '=', name).executeTakeFirstOrThrow();
    const id = run.id;
    // Writing a shard again (a retried pod) replaces what it wrote before.
    const shardClusters = trx.selectFrom('run_clusters').select('cluster').where('run_id', '=', id).where('shard', '=', shard);
    await trx.deleteFrom('run_drift').where('run_id', '=', id).where('cluster', 'in', shardClusters).execute();
    await trx.deleteFrom('run_clusters').where('run_id', '=', id).where('shard', '=', shard).execute();
    await trx.deleteFrom('run_shards').where('run_id', '=', id).where('shard', '=', shard).execute();
    await trx.insertInto('run_shards').values({ run_id: id, shard, time: time.toISOString(), clusters: head.clusters }).execute();
    // A finding's facts are written once: those the previous run already saw are known.
    const known = await previouslySeen(trx, id, time);
    const keep = new Map<string, string>();
    let findingCount = 0;
    let clusterCount = 0;
    let rows: { clusters: Insertable<Database['run_clusters']>[]; findings: Database['findings'][]; drift: Database['run_drift'][] } = { clusters: [], findings: [], drift: [] };
    const flush = async () => {
      await insertMany(store, trx, 'run_clusters', rows.clusters);
      await insertMany(store, trx, 'findings', rows.findings, 'fingerprint');
      await insertMany(store, trx, 'run_drift', rows.drift);
      rows = { clusters: [], findings: [], drift: [] };
    };
    for await (const c of clusters) {
      const mine = new Map<string, string>();
      for (const f of c.findings) {
        const fp = fingerprint(c.name, f);
        if (mine.has(fp)) continue;
        mine.set(fp, f.action[0]);
        if (!known.has(fp)) rows.findings.push({ fingerprint: fp, cluster: c.name, policy: f.policy, severity: f.severity, resource: resourceKey(f.resource), path: f.path, message: f.message });
      }
      findingCount += mine.size;
      clusterCount++;
      const seen = [...mine].map(([fp, a]) => fp + a).join(',');
      // retention only needs to know what this run still sees
      if (meta.keepMs !== undefined) keep.set(c.name, seen);
      const drifted = new Set<string>();
      for (const d of c.drift) {
        const resource = resourceKey(d.resource);
        if (drifted.has(resource)) continue;
        drifted.add(resource);
        rows.drift.push({ run_id: id, cluster: c.name, resource, ref: `${d.resource.apiVersion} ${d.resource.kind}`, state: d.state, diffs: JSON.stringify(d.diffs) });
      }
      rows.clusters.push({
        run_id: id,
        cluster: c.name,
        shard,
        labels: JSON.stringify(c.labels),
        status: c.status,
        error: c.error ?? null,
        score: c.score,
        object_score: typeof c.objectScore === 'number' ? c.objectScore : null,
        desired: c.desired,
        in_sync: c.inSync,
        findings: c.findings.length,
        drift: c.drift.length,
        seen,
      });
      if (rows.clusters.length >= CLUSTERS_PER_WRITE) await flush();
    }
    await flush();
    const deletedRuns = meta.keepMs === undefined ? 0 : await applyRetention(trx, new Date(time.getTime() - meta.keepMs), keep);
    return { id, run: name, shard, clusters: clusterCount, findings: findingCount, deletedRuns };
  };
  return store.guard('recording the run', () =>
    store.db
      .transaction()
      .execute((trx) => write(trx).catch((err) => Promise.reject((cause = err))))
      .catch((err) => Promise.reject(cause ?? err)),
  );
}

/** `<fp><action>,…` → fingerprint → action (deny, warn, audit). */
export function parseSeen(seen: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!seen) return out;
  for (const e of seen.split(',')) out.set(e.slice(0, -1), ACTIONS[e[e.length - 1]] ?? e[e.length - 1]);
  return out;
}
const ACTIONS: Record<string, string> = { d: 'deny', w: 'warn', a: 'audit' };

async function previouslySeen(trx: Transaction<Database>, id: number, time: Date): Promise<Set<string>> {
  const prev = await trx.selectFrom('runs').select('id').where('id', '!=', id).where('time', '<=', time.toISOString()).orderBy('time', 'desc').orderBy('id', 'desc').limit(1).executeTakeFirst();
  if (!prev) return new Set();
  const rows = await trx.selectFrom('run_clusters').select('seen').where('run_id', '=', prev.id).execute();
  const out = new Set<string>();
  for (const r of rows) for (const fp of parseSeen(r.seen).keys()) out.add(fp);
  return out;
}

/**
 * Deletes runs older than `before`, and the findings only they had seen; returns how many runs went. Candidates are
 * the deleted runs' fingerprints the run being written does not have (`keep`); each is kept if a remaining run of
 * its cluster still lists it.
 */
export async function applyRetention(trx: Transaction<Database>, before: Date, keep: ReadonlyMap<string, string> = new Map()): Promise<number> {
  const old = await trx.selectFrom('runs').select('id').where('time', '<', before.toISOString()).execute();
  if (!old.length) return 0;
  const ids = old.map((r) => r.id);
  const gone = await trx.selectFrom('run_clusters').select(['cluster', 'seen']).where('run_id', 'in', ids).execute();
  for (const t of ['run_drift', 'run_clusters', 'run_shards'] as const) await trx.deleteFrom(t).where('run_id', 'in', ids).execute();
  await trx.deleteFrom('runs').where('id', 'in', ids).execute();
  const candidates = new Map<string, Set<string>>();
  for (const g of gone) {
    const now = keep.get(g.cluster) ?? '';
    for (const fp of parseSeen(g.seen).keys()) {
      if (now.includes(fp)) continue;
      let s = candidates.get(g.cluster);
      if (!s) candidates.set(g.cluster, (s = new Set()));
      s.add(fp);
    }
  }
  for (const [cluster, fps] of candidates) {
    const rest = await trx.selectFrom('run_clusters').select('seen').where('cluster', '=', cluster).execute();
    const still = rest.map((r) => r.seen).join(',');
    const orphans = [...fps].filter((fp) => !still.includes(fp));
    for (let i = 0; i < orphans.length; i += 500) await trx.deleteFrom('findings').where('fingerprint', 'in', orphans.slice(i, i + 500)).execute();
  }
  return ids.length;
}

/** `90d`, `12h`, `30m`, `45s`, `2w` → milliseconds. */
export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(v.trim());
  if (!m) throw new Error(`${flag} must be a duration like 90d, 12h, 30m or 45s (got "${v}")`);
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[m[2] as 's']!;
}
