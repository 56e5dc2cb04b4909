import { createHash } from 'node:crypto';
import { groupOf, type Finding, type ResourceRef } from '../src/index.js';
import type { FleetReport } from '../scanner/scan.js';
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

const CHUNK = 400;

async function insertChunked<T extends keyof Database>(
  trx: import('kysely').Transaction<Database>,
  table: T,
  rows: import('kysely').Insertable<Database[T]>[],
  ignoreConflictOn?: string,
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    let q = trx.insertInto(table).values(rows.slice(i, i + CHUNK) as never);
    if (ignoreConflictOn) q = q.onConflict((oc) => oc.column(ignoreConflictOn as never).doNothing());
    await q.execute();
  }
}

export async function recordRun(store: Store, report: FleetReport, meta: RunMeta = {}): Promise<RecordedRun> {
  const time = meta.time ?? new Date();
  const shard = report.shard?.index ?? 0;
  const shards = report.shard?.count ?? 1;
  const name = runName(meta, shards > 1, time);
  const findingRows = new Map<string, Database['findings']>();
  const runFindings = new Map<string, string>();
  const drift = new Map<string, Database['run_drift'] & { run_id?: number }>();
  for (const c of report.clusters) {
    for (const f of c.findings) {
      const fp = fingerprint(c.name, f);
      if (runFindings.has(fp)) continue;
      runFindings.set(fp, f.action);
      findingRows.set(fp, { fingerprint: fp, cluster: c.name, policy: f.policy, severity: f.severity, resource: resourceKey(f.resource), path: f.path, message: f.message });
    }
    for (const d of c.drift) {
      const key = `${c.name}\n${resourceKey(d.resource)}`;
      if (!drift.has(key))
        drift.set(key, { run_id: 0, cluster: c.name, resource: resourceKey(d.resource), ref: `${d.resource.apiVersion} ${d.resource.kind}`, state: d.state, diffs: JSON.stringify(d.diffs) });
    }
  }
  return store.guard('recording the run', () =>
    store.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('runs')
        .values({ name, time: time.toISOString(), commit: meta.commit ?? null, fleet: report.fleet, shards })
        .onConflict((oc) => oc.column('name').doNothing())
        .execute();
      const run = await trx.selectFrom('runs').select(['id']).where('name', '=', name).executeTakeFirstOrThrow();
      const id = run.id;
      // Writing a shard again (a retried pod) replaces what it wrote before.
      const mine = trx.selectFrom('findings').innerJoin('run_clusters', 'run_clusters.cluster', 'findings.cluster').select('findings.fingerprint').where('run_clusters.run_id', '=', id).where('run_clusters.shard', '=', shard);
      await trx.deleteFrom('run_findings').where('run_id', '=', id).where('fingerprint', 'in', mine).execute();
      const shardClusters = trx.selectFrom('run_clusters').select('cluster').where('run_id', '=', id).where('shard', '=', shard);
      await trx.deleteFrom('run_drift').where('run_id', '=', id).where('cluster', 'in', shardClusters).execute();
      await trx.deleteFrom('run_clusters').where('run_id', '=', id).where('shard', '=', shard).execute();
      await trx.deleteFrom('run_shards').where('run_id', '=', id).where('shard', '=', shard).execute();
      await trx.insertInto('run_shards').values({ run_id: id, shard, time: time.toISOString(), clusters: report.clusters.length }).execute();
      await insertChunked(
        trx,
        'run_clusters',
        report.clusters.map((c) => ({
          run_id: id,
          cluster: c.name,
          shard,
          labels: JSON.stringify(c.labels),
          status: c.status,
          error: c.error ?? null,
          score: c.score,
          desired: c.desired,
          in_sync: c.inSync,
          findings: c.findings.length,
          drift: c.drift.length,
        })),
      );
      await insertChunked(trx, 'findings', [...findingRows.values()], 'fingerprint');
      await insertChunked(trx, 'run_findings', [...runFindings].map(([fp, action]) => ({ run_id: id, fingerprint: fp, action })));
      await insertChunked(trx, 'run_drift', [...drift.values()].map((d) => ({ ...d, run_id: id })));
      const deletedRuns = meta.keepMs === undefined ? 0 : await applyRetention(trx, new Date(time.getTime() - meta.keepMs));
      return { id, run: name, shard, clusters: report.clusters.length, findings: runFindings.size, deletedRuns };
    }),
  );
}

/** Deletes runs older than `before` and the findings no run refers to any more; returns how many runs went. */
export async function applyRetention(trx: import('kysely').Transaction<Database>, before: Date): Promise<number> {
  const old = await trx.selectFrom('runs').select('id').where('time', '<', before.toISOString()).execute();
  if (!old.length) return 0;
  const ids = old.map((r) => r.id);
  for (const t of ['run_findings', 'run_drift', 'run_clusters', 'run_shards'] as const) await trx.deleteFrom(t).where('run_id', 'in', ids).execute();
  await trx.deleteFrom('runs').where('id', 'in', ids).execute();
  await trx
    .deleteFrom('findings')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('run_findings').select('run_findings.run_id').whereRef('run_findings.fingerprint', '=', 'findings.fingerprint'))))
    .execute();
  return ids.length;
}

/** `90d`, `12h`, `30m`, `45s`, `2w` → milliseconds. */
export function parseDuration(flag: string, v: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(v.trim());
  if (!m) throw new Error(`${flag} must be a duration like 90d, 12h, 30m or 45s (got "${v}")`);
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 }[m[2] as 's']!;
}
