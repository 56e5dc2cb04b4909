import type { Kysely } from 'kysely';
import type { Finding } from '../src/index.js';
import { chunks, closeSpans, insertMany, type Raw } from './bulk.js';
import { resourceKey } from './keys.js';
import type { Database } from './schema.js';
import { HistoryError } from './store.js';

/**
 * The presence spans of findings (schema.ts) as a run moves them: the clusters a run (or a shard of it) judged get
 * their spans advanced — new findings open one, findings no longer seen close theirs, findings seen again cost
 * nothing. Clusters a run did not judge (unreachable, error, or in another shard) are not touched: a shard never
 * closes a span of a cluster it did not scan.
 */

type Db = Kysely<Database>;

/** What one judged cluster showed in this run: fingerprint → the finding (its facts are built only when new). */
export interface Seen {
  cluster: string;
  findings: Map<string, Finding>;
}

/** Spans this run (`id`) had opened or closed on these clusters, undone: a shard written again replaces its first write. */
export async function undoRun(trx: Db, id: number, clusters: readonly string[]): Promise<void> {
  for (const part of chunks(clusters)) {
    await trx.deleteFrom('finding_spans').where('start_run', '=', id).where('cluster', 'in', part).execute();
    await trx.updateTable('finding_spans').set({ end_run: null }).where('end_run', '=', id).where('cluster', 'in', part).execute();
  }
}

/**
 * Spans only move forward: a cluster's runs must be written in time order (their ids then follow it, and spans
 * compare runs by id). A run older than one already recorded for the same cluster is refused.
 */
export async function refuseOlder(trx: Db, id: number, time: string, clusters: readonly string[]): Promise<void> {
  for (const part of chunks(clusters)) {
    const later = await trx
      .selectFrom('run_clusters as c')
      .innerJoin('runs as r', 'r.id', 'c.run_id')
      .select(['c.cluster', 'r.name'])
      .where('c.cluster', 'in', part)
      .where('c.run_id', '!=', id)
      // later by time, or recorded after it (spans would then order the two runs one way and the timeline the other)
      .where((eb) => eb.or([eb('r.time', '>', time), eb('r.id', '>', id)]))
      .limit(1)
      .executeTakeFirst();
    if (later) throw new HistoryError('usage', `cluster ${later.cluster} is already recorded in the later run ${later.name}: an older run cannot be written after it`);
  }
}

/** Fingerprint → action of the clusters' open spans (SQLite: rows as arrays, the cheapest way out of the driver). */
async function openSpans(raw: Raw, trx: Db, clusters: readonly string[]): Promise<Map<string, string>> {
  const open = new Map<string, string>();
  for (const part of chunks(clusters)) {
    if (raw) {
      const stmt = raw.prepare(`select fingerprint, action from finding_spans where end_run is null and cluster in (${part.map(() => '?').join(',')})`).raw(true);
      for (const [fp, action] of stmt.all(...part) as [string, string][]) open.set(fp, action);
      continue;
    }
    const rows = await trx.selectFrom('finding_spans').select(['fingerprint', 'action']).where('end_run', 'is', null).where('cluster', 'in', part).execute();
    for (const r of rows) open.set(r.fingerprint, r.action);
  }
  return open;
}

/** Opens and closes the spans of these judged clusters for run `id`; returns how many spans it opened and closed. */
export async function advanceSpans(raw: Raw, trx: Db, id: number, seen: readonly Seen[]): Promise<{ opened: number; closed: number }> {
  if (!seen.length) return { opened: 0, closed: 0 };
  const open = await openSpans(raw, trx, seen.map((s) => s.cluster));
  const close: string[] = [];
  const spans: Database['finding_spans'][] = [];
  const facts: Database['findings'][] = [];
  for (const s of seen)
    for (const [fp, f] of s.findings) {
      const was = open.get(fp);
      open.delete(fp);
      if (was === f.action) continue;
      // A finding whose action changed (warn → deny) starts a new span: each span says what the runs in it saw.
      if (was !== undefined) close.push(fp);
      spans.push({ fingerprint: fp, cluster: s.cluster, action: f.action, start_run: id, end_run: null });
      facts.push({ fingerprint: fp, cluster: s.cluster, policy: f.policy, severity: f.severity, resource: resourceKey(f.resource), path: f.path, message: f.message });
    }
  close.push(...open.keys()); // open before, not seen now: resolved
  // In key order, so the b-trees are walked forward instead of at random (a first run inserts ~750,000 of each).
  close.sort();
  spans.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
  facts.sort((a, b) => (a.fingerprint < b.fingerprint ? -1 : 1));
  // Closing first: a reopened fingerprint's new span must not be closed with the old one.
  await closeSpans(raw, trx, id, close);
  await insertMany(raw, trx, 'finding_spans', spans);
  await insertMany(raw, trx, 'findings', facts, 'fingerprint');
  return { opened: spans.length, closed: close.length };
}

/**
 * Retention: deletes the runs older than `before`, the spans that only covered them (closed by the first remaining
 * run or earlier), the spans of clusters no remaining run has, and the facts of findings left without a span.
 * A remaining span that opened in a deleted run keeps its start (the run it was first seen in, now gone).
 */
export async function applyRetention(trx: Db, before: Date): Promise<number> {
  const old = await trx.selectFrom('runs').select('id').where('time', '<', before.toISOString()).execute();
  if (!old.length) return 0;
  const ids = old.map((r) => r.id);
  const touched = new Set<string>();
  for (const part of chunks(ids)) {
    for (const r of await trx.selectFrom('run_clusters').select('cluster').distinct().where('run_id', 'in', part).execute()) touched.add(r.cluster);
    for (const t of ['run_drift', 'run_clusters', 'run_shards'] as const) await trx.deleteFrom(t).where('run_id', 'in', part).execute();
    await trx.deleteFrom('runs').where('id', 'in', part).execute();
  }
  const first = (await trx.selectFrom('runs').select((eb) => eb.fn.min<number | null>('id').as('id')).executeTakeFirst())?.id ?? Number.MAX_SAFE_INTEGER;
  const left = new Set<string>();
  for (const part of chunks([...touched])) for (const r of await trx.selectFrom('run_clusters').select('cluster').distinct().where('cluster', 'in', part).execute()) left.add(r.cluster);
  const gone = [...touched].filter((c) => !left.has(c));
  const fps = new Set((await trx.selectFrom('finding_spans').select('fingerprint').where('end_run', '<=', first).execute()).map((r) => r.fingerprint));
  await trx.deleteFrom('finding_spans').where('end_run', '<=', first).execute();
  for (const part of chunks(gone)) {
    for (const r of await trx.selectFrom('finding_spans').select('fingerprint').where('cluster', 'in', part).execute()) fps.add(r.fingerprint);
    await trx.deleteFrom('finding_spans').where('cluster', 'in', part).execute();
  }
  for (const part of chunks([...fps]))
    await trx
      .deleteFrom('findings')
      .where('fingerprint', 'in', part)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('finding_spans as s').select('s.fingerprint').whereRef('s.fingerprint', '=', 'findings.fingerprint'))))
      .execute();
  return ids.length;
}
