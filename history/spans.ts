import type { Kysely } from 'kysely';
import type { Finding } from '../src/index.js';
import { chunks, closeSpans, insertMany, type Raw } from './bulk.js';
import { resolveKey, sameFinding, storeFacts, type Fact } from './facts.js';
import type { Database } from './schema.js';
import { HistoryError } from './store.js';

/**
 * The presence spans of findings (schema.ts) as a run moves them: the clusters a run (or a shard of it) judged get
 * their spans advanced — new findings open one, findings no longer seen close theirs, findings seen again cost
 * nothing. Clusters a run did not judge (unreachable, error, or in another shard) are not touched: a shard never
 * closes a span of a cluster it did not scan.
 */

type Db = Kysely<Database>;

/** A finding of a run as the store names it: the finding, its resource key, and the hash of its identity (keys.ts). */
export interface Entry {
  f: Finding;
  resource: string;
  hash: number;
}

/**
 * What one judged cluster showed in this run: key → finding, and the findings whose key is not simply their hash
 * (their hash collided before, or with another finding of this cluster in this run): looked up in the store first.
 */
export interface Seen {
  cluster: string;
  findings: Map<number, Entry>;
  unresolved: Entry[];
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

/** Per cluster, key → action of its open spans (SQLite: one prepared read per cluster, rows as arrays). */
async function openSpans(raw: Raw, trx: Db, clusters: readonly string[]): Promise<Map<string, Map<number, string>>> {
  const open = new Map<string, Map<number, string>>(clusters.map((c) => [c, new Map()]));
  if (raw) {
    const stmt = raw.prepare('select key, action from finding_spans where cluster = ? and end_run is null').raw(true);
    for (const c of clusters) {
      const mine = open.get(c)!;
      for (const [k, action] of stmt.all(c) as [number, string][]) mine.set(k, action);
    }
    return open;
  }
  for (const part of chunks(clusters)) {
    const rows = await trx.selectFrom('finding_spans').select(['cluster', 'key', 'action']).where('end_run', 'is', null).where('cluster', 'in', part).execute();
    for (const r of rows) open.get(r.cluster)!.set(Number(r.key), r.action);
  }
  return open;
}

const factOf = (cluster: string, e: Entry): Fact => ({ hash: e.hash, cluster, policy: e.f.policy, severity: e.f.severity, resource: e.resource, path: e.f.path, message: e.f.message });

/** The unresolved findings put under their key in the store, or listed as never stored (a new key will be found for them). */
async function resolve(raw: Raw, trx: Db, s: Seen, collisions: Map<number, number[]>): Promise<Entry[]> {
  const fresh: Entry[] = [];
  for (const e of s.unresolved) {
    const key = await resolveKey(raw, trx, factOf(s.cluster, e), collisions);
    const had = key === undefined ? fresh.find((x) => sameFinding(factOf(s.cluster, x), factOf(s.cluster, e))) : s.findings.get(key);
    if (had) continue; // the same finding twice
    if (key === undefined) fresh.push(e);
    else s.findings.set(key, e);
  }
  return fresh;
}

/** Opens and closes the spans of these judged clusters for run `id`; returns how many spans it opened and closed. */
export async function advanceSpans(raw: Raw, trx: Db, id: number, seen: readonly Seen[], collisions: Map<number, number[]>): Promise<{ opened: number; closed: number }> {
  if (!seen.length) return { opened: 0, closed: 0 };
  const open = await openSpans(raw, trx, seen.map((s) => s.cluster));
  const close: number[] = [];
  const spans: Database['finding_spans'][] = [];
  const facts: Fact[] = [];
  const factActions: string[] = [];
  for (const s of seen) {
    const fresh = s.unresolved.length ? await resolve(raw, trx, s, collisions) : [];
    const was = open.get(s.cluster)!;
    for (const [k, e] of s.findings) {
      const action = was.get(k);
      was.delete(k);
      if (action === e.f.action) continue;
      // A finding whose action changed (warn → deny) starts a new span: each span says what the runs in it saw.
      if (action !== undefined) {
        close.push(k);
        spans.push({ key: k, cluster: s.cluster, action: e.f.action, start_run: id, end_run: null });
        continue;
      }
      facts.push(factOf(s.cluster, e));
      factActions.push(e.f.action);
    }
    for (const e of fresh) {
      facts.push(factOf(s.cluster, e));
      factActions.push(e.f.action);
    }
    close.push(...was.keys()); // open before, not seen now: resolved
  }
  // Findings without an open span: stored already (seen before), or stored now; either way their key is known then.
  const keys = await storeFacts(raw, trx, facts, collisions);
  keys.forEach((key, i) => spans.push({ key, cluster: facts[i].cluster, action: factActions[i], start_run: id, end_run: null }));
  // In key order, so the b-trees are walked forward instead of at random (a first run inserts ~750,000 spans).
  close.sort((a, b) => a - b);
  spans.sort((a, b) => a.key - b.key);
  // Closing first: a reopened finding's new span must not be closed with the old one.
  await closeSpans(raw, trx, id, close);
  await insertMany(raw, trx, 'finding_spans', spans);
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
  const keys = new Set((await trx.selectFrom('finding_spans').select('key').where('end_run', '<=', first).execute()).map((r) => Number(r.key)));
  await trx.deleteFrom('finding_spans').where('end_run', '<=', first).execute();
  for (const part of chunks(gone)) {
    for (const r of await trx.selectFrom('finding_spans').select('key').where('cluster', 'in', part).execute()) keys.add(Number(r.key));
    await trx.deleteFrom('finding_spans').where('cluster', 'in', part).execute();
  }
  for (const part of chunks([...keys]))
    await trx
      .deleteFrom('findings')
      .where('key', 'in', part)
      .where(({ not, exists, selectFrom }) => not(exists(selectFrom('finding_spans as s').select('s.key').whereRef('s.key', '=', 'findings.key'))))
      .execute();
  // A moved key whose finding went no longer needs looking up (a later finding with that hash may take the key).
  await trx
    .deleteFrom('key_collisions')
    .where(({ not, exists, selectFrom }) => not(exists(selectFrom('findings as f').select('f.key').whereRef('f.key', '=', 'key_collisions.key'))))
    .execute();
  return ids.length;
}
