import type { Kysely } from 'kysely';
import type { Finding } from '../src/index.js';
import { chunks, closeSpans, insertMany, type Raw } from './bulk.js';
import { resolveKey, storeFacts, type Fact } from './facts.js';
import { resourceKey, sameIdentity } from './keys.js';
import type { Database } from './schema.js';
import { HistoryError } from './store.js';

/**
 * The presence spans of findings (schema.ts) as a run moves them: the clusters a run (or a shard of it) judged get
 * their spans advanced — new findings open one, findings no longer seen close theirs, findings seen again cost
 * nothing. Clusters a run did not judge (unreachable, error, or in another shard) are not touched: a shard never
 * closes a span of a cluster it did not scan.
 */

type Db = Kysely<Database>;

/** What one judged cluster showed in this run: its findings and the key of each (keys.ts findingKeyOf), in order. */
export interface Seen {
  cluster: string;
  findings: readonly Finding[];
  keys: Float64Array;
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

/** An open span's action as a number: what the open-span read packs beside the key (key * 4 + code < 2^53). */
const CODES: Record<string, number> = { deny: 0, warn: 1, audit: 2 };
const PACKED = `key * 4 + case action when 'deny' then 0 when 'warn' then 1 when 'audit' then 2 else 3 end`;
/** Values of the open map at or above SEEN mark a key this run saw: SEEN + the index of its finding. */
const SEEN = 4;

/**
 * Per cluster: key → action code of its open spans. SQLite: one prepared read per cluster giving one number per
 * span (key and action packed), the cheapest way out of the driver; PostgreSQL: one read per 500 clusters.
 */
async function openSpans(raw: Raw, trx: Db, clusters: readonly string[]): Promise<Map<string, Map<number, number>>> {
  const open = new Map<string, Map<number, number>>(clusters.map((c) => [c, new Map()]));
  if (raw) {
    const stmt = raw.prepare(`select ${PACKED} from finding_spans where cluster = ? and end_run is null`).pluck();
    for (const c of clusters) {
      const mine = open.get(c)!;
      for (const p of stmt.all(c) as number[]) mine.set(Math.floor(p / 4), p % 4);
    }
    return open;
  }
  for (const part of chunks(clusters)) {
    const rows = await trx.selectFrom('finding_spans').select(['cluster', 'key', 'action']).where('end_run', 'is', null).where('cluster', 'in', part).execute();
    for (const r of rows) open.get(r.cluster)!.set(Number(r.key), CODES[r.action] ?? 3);
  }
  return open;
}

const factOf = (cluster: string, f: Finding, hash: number): Fact => ({ hash, cluster, policy: f.policy, severity: f.severity, resource: resourceKey(f.resource), path: f.path, message: f.message });

/** What a run changes on the spans: spans to close (keys), spans that open on known keys, findings whose key the facts give. */
interface Moves {
  close: number[];
  spans: Database['finding_spans'][];
  facts: Fact[];
  factActions: string[];
}

/**
 * One cluster's findings against its open spans: seen again with the same action, nothing; with another action,
 * the span closes and a new one opens; not open, a new span (its key from the facts: stored before or now); open
 * and not seen, the span closes. A hash that collided before, or two findings of the cluster with one hash and
 * different identities, is looked up in the store (resolveKey). Returns the count of distinct findings.
 */
async function moveCluster(raw: Raw, trx: Db, id: number, s: Seen, open: Map<number, number>, collisions: Map<number, number[]>, m: Moves): Promise<number> {
  const unresolved: number[] = [];
  let distinct = 0;
  const seeKey = (k: number, i: number) => {
    const f = s.findings[i];
    const v = open.get(k);
    if (v !== undefined && v >= SEEN) return sameIdentity(s.findings[v - SEEN], f) ? undefined : unresolved.push(i);
    open.set(k, SEEN + i);
    distinct++;
    if (v === undefined) {
      m.facts.push(factOf(s.cluster, f, s.keys[i]));
      m.factActions.push(f.action);
    } else if (v !== CODES[f.action]) {
      // A finding whose action changed (warn → deny) starts a new span: each span says what the runs in it saw.
      m.close.push(k);
      m.spans.push({ key: k, cluster: s.cluster, action: f.action, start_run: id, end_run: null });
    }
  };
  const checked = collisions.size > 0;
  for (let i = 0; i < s.keys.length; i++) {
    if (checked && collisions.has(s.keys[i])) unresolved.push(i);
    else seeKey(s.keys[i], i);
  }
  const fresh: number[] = [];
  for (const i of unresolved) {
    const f = s.findings[i];
    if (fresh.some((j) => sameIdentity(s.findings[j], f))) continue;
    const key = await resolveKey(raw, trx, factOf(s.cluster, f, s.keys[i]), collisions);
    if (key === undefined) fresh.push(i);
    // Its key already taken in this pass by a finding that hashed to it: that one was taken for this one (the rare
    // case a new finding hashes to the key of another of its cluster's open findings, README): counted once.
    else if ((open.get(key) ?? 0) < SEEN) seeKey(key, i);
  }
  for (const i of fresh) {
    m.facts.push(factOf(s.cluster, s.findings[i], s.keys[i]));
    m.factActions.push(s.findings[i].action);
  }
  for (const [k, v] of open) if (v < SEEN) m.close.push(k); // open before, not seen now: resolved
  return distinct + fresh.length;
}

/** Opens and closes the spans of these judged clusters for run `id`; returns the distinct findings they showed. */
export async function advanceSpans(raw: Raw, trx: Db, id: number, seen: readonly Seen[], collisions: Map<number, number[]>): Promise<number> {
  if (!seen.length) return 0;
  const open = await openSpans(raw, trx, seen.map((s) => s.cluster));
  const m: Moves = { close: [], spans: [], facts: [], factActions: [] };
  let distinct = 0;
  for (const s of seen) distinct += await moveCluster(raw, trx, id, s, open.get(s.cluster)!, collisions, m);
  // Findings without an open span: stored already (seen before), or stored now; either way their key is known then.
  const keys = await storeFacts(raw, trx, m.facts, collisions);
  keys.forEach((key, i) => m.spans.push({ key, cluster: m.facts[i].cluster, action: m.factActions[i], start_run: id, end_run: null }));
  // In key order, so the b-trees are walked forward instead of at random (a first run inserts ~750,000 spans).
  m.close.sort((a, b) => a - b);
  m.spans.sort((a, b) => a.key - b.key);
  // Closing first: a reopened finding's new span must not be closed with the old one.
  await closeSpans(raw, trx, id, m.close);
  await insertMany(raw, trx, 'finding_spans', m.spans);
  return distinct;
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
