import type { ClusterReport, FleetReport } from '../scanner/scan.js';
import type { Insertable, Transaction } from 'kysely';
import { insertMany } from './bulk.js';
import { readCollisions } from './facts.js';
import { findingKeyOf, resourceKey } from './keys.js';
import type { Database } from './schema.js';
import { advanceSpans, applyRetention, refuseOlder, undoRun, type Seen } from './spans.js';
import type { Store } from './store.js';

/**
 * Writing one scan (or one shard of a scan) into the store, in one transaction: a run interrupted mid-write
 * leaves nothing behind, and writing the same shard of the same run again replaces it (a retried Job pod).
 * Per cluster a row (labels, status, scores, counts) and its drift entries; findings move their presence spans
 * (spans.ts), so a run whose findings did not change writes no finding at all.
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

export { fingerprint, findingKey, resourceKey } from './keys.js';

export function runName(meta: RunMeta, sharded: boolean, time: Date): string {
  if (meta.runId) return meta.runId;
  const commit = meta.commit ? meta.commit.slice(0, 12) : 'no-commit';
  if (sharded) return `${time.toISOString().slice(0, 13)}-${commit}`;
  return `${time.toISOString().replace(/[-:]/g, '').replace(/\.(\d+)Z$/, '$1Z')}-${commit}`;
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
  const shards = head.shard?.count ?? 1;
  const run: RunRow = { name: runName(meta, shards > 1, time), time, shard: head.shard?.index ?? 0, shards };
  // SQLite rolls back by itself on some errors (SQLITE_FULL): the rollback Kysely then sends fails with "no
  // transaction is active", which must not hide the error that matters.
  let cause: unknown;
  return store.guard('recording the run', () =>
    store.db
      .transaction()
      .execute((trx) => writeRun(store, trx, run, head, clusters, meta).catch((err) => Promise.reject((cause = err))))
      .catch((err) => Promise.reject(cause ?? err)),
  );
}

interface RunRow {
  name: string;
  time: Date;
  shard: number;
  shards: number;
}

async function writeRun(
  store: Store,
  trx: Transaction<Database>,
  run: RunRow,
  head: RunHead,
  clusters: Iterable<ClusterReport> | AsyncIterable<ClusterReport>,
  meta: RunMeta,
): Promise<RecordedRun> {
  const { id, time } = await openRun(trx, run, head, meta);
  // The newest run by id and by time has no later run to check its clusters against (the common case).
  const newest = await trx.selectFrom('runs').select((eb) => [eb.fn.max<number>('id').as('id'), eb.fn.max<string>('time').as('time')]).executeTakeFirstOrThrow();
  const writer = new ClusterWriter(store, trx, id, run.shard, time, newest.id === id && newest.time <= time, await readCollisions(trx));
  for await (const c of clusters) {
    writer.add(c);
    if (writer.pending >= CLUSTERS_PER_WRITE) await writer.flush();
  }
  await writer.flush();
  const deletedRuns = meta.keepMs === undefined ? 0 : await applyRetention(trx, new Date(run.time.getTime() - meta.keepMs));
  return { id, run: run.name, shard: run.shard, clusters: writer.clusters, findings: writer.findings, deletedRuns };
}

/** The run's row (shards of one run share it), and this shard's earlier write undone: a retried pod replaces it. */
async function openRun(trx: Transaction<Database>, run: RunRow, head: RunHead, meta: RunMeta): Promise<{ id: number; time: string }> {
  const time = run.time.toISOString();
  await trx
    .insertInto('runs')
    .values({ name: run.name, time, commit: meta.commit ?? null, fleet: head.fleet, shards: run.shards })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  // A shard joining a run takes the run's time (the first shard's), not its own.
  const row = await trx.selectFrom('runs').select(['id', 'time']).where('name', '=', run.name).executeTakeFirstOrThrow();
  const id = row.id;
  const before = await trx.selectFrom('run_clusters').select('cluster').where('run_id', '=', id).where('shard', '=', run.shard).execute();
  await undoRun(trx, id, before.map((c) => c.cluster));
  const shardClusters = trx.selectFrom('run_clusters').select('cluster').where('run_id', '=', id).where('shard', '=', run.shard);
  await trx.deleteFrom('run_drift').where('run_id', '=', id).where('cluster', 'in', shardClusters).execute();
  await trx.deleteFrom('run_clusters').where('run_id', '=', id).where('shard', '=', run.shard).execute();
  await trx.deleteFrom('run_shards').where('run_id', '=', id).where('shard', '=', run.shard).execute();
  await trx.insertInto('run_shards').values({ run_id: id, shard: run.shard, time, clusters: head.clusters }).execute();
  return { id, time: row.time };
}

/** Gathers clusters' rows and writes them a batch at a time: the cluster rows, the drift, and the spans moved. */
class ClusterWriter {
  clusters = 0;
  findings = 0;
  private rows: Insertable<Database['run_clusters']>[] = [];
  private drift: Database['run_drift'][] = [];
  private seen: Seen[] = [];

  constructor(
    private readonly store: Store,
    private readonly trx: Transaction<Database>,
    private readonly id: number,
    private readonly shard: number,
    private readonly time: string,
    /** No later run exists, so no check that this run's clusters have none. */
    private readonly latest: boolean,
    /** The store's moved keys (hash → keys): a finding with such a hash is looked up in the store (facts.ts). */
    private readonly collisions: Map<number, number[]>,
  ) {}

  get pending(): number {
    return this.rows.length;
  }

  add(c: ClusterReport): void {
    const keys = new Float64Array(c.findings.length);
    for (let i = 0; i < keys.length; i++) keys[i] = findingKeyOf(c.name, c.findings[i]);
    this.clusters++;
    // Only a cluster this run judged moves its spans (an unreachable one keeps what its last scan saw); its
    // distinct findings are counted when they move them.
    if (c.status === 'ok') this.seen.push({ cluster: c.name, findings: c.findings, keys });
    else this.findings += new Set(keys).size;
    const drifted = new Set<string>();
    for (const d of c.drift) {
      const resource = resourceKey(d.resource);
      if (drifted.has(resource)) continue;
      drifted.add(resource);
      this.drift.push({ run_id: this.id, cluster: c.name, resource, ref: `${d.resource.apiVersion} ${d.resource.kind}`, state: d.state, diffs: JSON.stringify(d.diffs) });
    }
    this.rows.push({
      run_id: this.id,
      cluster: c.name,
      shard: this.shard,
      labels: JSON.stringify(c.labels),
      status: c.status,
      error: c.error ?? null,
      score: c.score,
      object_score: typeof c.objectScore === 'number' ? c.objectScore : null,
      desired: c.desired,
      in_sync: c.inSync,
      findings: c.findings.length,
      drift: c.drift.length,
    });
  }

  async flush(): Promise<void> {
    const raw = this.store.sqlite;
    // The cluster rows first: a cluster twice in one run fails on their key before any span moves.
    await insertMany(raw, this.trx, 'run_clusters', this.rows);
    await insertMany(raw, this.trx, 'run_drift', this.drift);
    if (!this.latest) await refuseOlder(this.trx, this.id, this.time, this.rows.map((r) => r.cluster));
    this.findings += await advanceSpans(raw, this.trx, this.id, this.seen, this.collisions);
    this.rows = [];
    this.drift = [];
    this.seen = [];
  }
}

/** `90d`, `12h`, `30m`, `45s`, `2w` → milliseconds. */
export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(v.trim());
  if (!m) throw new Error(`${flag} must be a duration like 90d, 12h, 30m or 45s (got "${v}")`);
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[m[2] as 's']!;
}
