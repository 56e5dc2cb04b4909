import { sql, type Generated, type Kysely } from 'kysely';
import type { Raw } from './bulk.js';
import { keysFromFingerprints } from './migrate-keys.js';
import { spansFromSeen } from './migrate-spans.js';

/**
 * The history store's schema: one set of tables for both the embedded SQLite file and PostgreSQL, written with
 * Kysely's schema builder so that the same migration runs on both. Migrations are numbered; `meta.schema_version`
 * says how far a store is. Times are ISO 8601 UTC text (sorts as it reads, same on both engines).
 *
 * A finding's stable facts (policy, cluster, resource, path, severity, first message) live once in `findings`,
 * keyed by its fingerprint. Which runs saw it is kept as presence spans (`finding_spans`, migration 3): a span
 * opens at the first run that saw the finding on its cluster and stays open (`end_run` null) while every later run
 * that judged the cluster (status ok) sees it again; the first judging run that does not see it closes the span
 * (`end_run` = that run, exclusive). A run writes only what changed, so neither the size of a run nor the cost of a
 * diff grows with the findings that did not change. Runs are ordered by id: they are recorded in time order.
 * Until migration 3 each run's cluster row listed its fingerprints (`run_clusters.seen`); migration 3 converts
 * that list into spans and drops it.
 * Migration 4 keys findings and spans by a 51-bit integer (`findings.key`, keys.ts findingKey) instead of the
 * 16-character fingerprint, which stays in `findings` (unique) as the finding's public name: a run then hashes each
 * finding with a cheap hash and compares integers, and computes the SHA-256 fingerprint only for findings it stores.
 * The rare finding whose key another finding already has gets the next free key, listed in `key_collisions`.
 */

export interface Database {
  meta: { key: string; value: string };
  runs: { id: Generated<number>; name: string; time: string; commit: string | null; fleet: string; shards: number };
  run_shards: { run_id: number; shard: number; time: string; clusters: number };
  run_clusters: {
    run_id: number;
    cluster: string;
    shard: number;
    labels: string;
    status: string;
    error: string | null;
    score: number | null;
    /** The cluster's objectScore (migration 2; null in runs recorded before it). */
    object_score: number | null;
    desired: number;
    in_sync: number;
    findings: number;
    drift: number;
  };
  findings: { key: number; fingerprint: string; cluster: string; policy: string; severity: string; resource: string; path: string; message: string };
  finding_spans: { key: number; cluster: string; action: string; start_run: number; end_run: number | null };
  /** Findings whose key is not their hash (migration 4): hash → the key they were given. Normally empty. */
  key_collisions: { hash: number; key: number };
  run_drift: { run_id: number; cluster: string; resource: string; ref: string; state: string; diffs: string };
}

export type Engine = 'sqlite' | 'postgres';
/** `raw`: the embedded store's connection (bulk inserts of a data migration), undefined on PostgreSQL. */
type Migration = (db: Kysely<Database>, engine: Engine, raw: Raw) => Promise<void>;

/** Append only: a released migration is never edited (stores in the field are at its version). */
export const MIGRATIONS: readonly Migration[] = [
  async (db, engine) => {
    let runs = db.schema.createTable('runs');
    runs = engine === 'postgres' ? runs.addColumn('id', 'serial', (c) => c.primaryKey()) : runs.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
    await runs
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('commit', 'text')
      .addColumn('fleet', 'text', (c) => c.notNull())
      .addColumn('shards', 'integer', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('runs_time').on('runs').column('time').execute();
    await db.schema
      .createTable('run_shards')
      .addColumn('run_id', 'integer', (c) => c.notNull())
      .addColumn('shard', 'integer', (c) => c.notNull())
      .addColumn('time', 'text', (c) => c.notNull())
      .addColumn('clusters', 'integer', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_shards_pk', ['run_id', 'shard'])
      .execute();
    await db.schema
      .createTable('run_clusters')
      .addColumn('run_id', 'integer', (c) => c.notNull())
      .addColumn('cluster', 'text', (c) => c.notNull())
      .addColumn('shard', 'integer', (c) => c.notNull())
      .addColumn('labels', 'text', (c) => c.notNull())
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('error', 'text')
      .addColumn('score', 'double precision')
      .addColumn('desired', 'integer', (c) => c.notNull())
      .addColumn('in_sync', 'integer', (c) => c.notNull())
      .addColumn('findings', 'integer', (c) => c.notNull())
      .addColumn('drift', 'integer', (c) => c.notNull())
      .addColumn('seen', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_clusters_pk', ['run_id', 'cluster'])
      .execute();
    await db.schema.createIndex('run_clusters_cluster').on('run_clusters').column('cluster').execute();
    await db.schema
      .createTable('findings')
      .addColumn('fingerprint', 'text', (c) => c.primaryKey())
      .addColumn('cluster', 'text', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      // SQLite: the rows live in the primary key's b-tree (no second one for a rowid): half the work per new finding.
      .$call((q) => (engine === 'sqlite' ? q.modifyEnd(sql`without rowid`) : q))
      .execute();
    await db.schema
      .createTable('run_drift')
      .addColumn('run_id', 'integer', (c) => c.notNull())
      .addColumn('cluster', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('ref', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('diffs', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_drift_pk', ['run_id', 'cluster', 'resource'])
      .execute();
  },
  // 2: the per-object score beside the check-weighted one (scanner/score.ts ObjectTally).
  async (db) => {
    await db.schema.alterTable('run_clusters').addColumn('object_score', 'double precision').execute();
  },
  // 3: presence spans instead of each run's list of fingerprints (see above); the lists are converted, then dropped.
  async (db, engine, raw) => {
    await db.schema
      .createTable('finding_spans')
      .addColumn('fingerprint', 'text', (c) => c.notNull())
      .addColumn('cluster', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('start_run', 'integer', (c) => c.notNull())
      .addColumn('end_run', 'integer')
      .addPrimaryKeyConstraint('finding_spans_pk', ['fingerprint', 'start_run'])
      .$call((q) => (engine === 'sqlite' ? q.modifyEnd(sql`without rowid`) : q))
      .execute();
    // A run's write reads the open spans of its clusters; a diff reads the spans that start or end between two runs.
    // (With `action` the index covers that read on SQLite, whose index entries carry the key: no table lookups.)
    await db.schema.createIndex('finding_spans_open').on('finding_spans').columns(['cluster', 'end_run', 'action']).execute();
    await db.schema.createIndex('finding_spans_start').on('finding_spans').column('start_run').execute();
    await db.schema.createIndex('finding_spans_end').on('finding_spans').column('end_run').execute();
    await spansFromSeen(db, raw);
    await db.schema.alterTable('run_clusters').dropColumn('seen').execute();
  },
  // 4: findings and spans keyed by a 51-bit integer (see above); the tables are rebuilt and their rows converted.
  async (db, engine, raw) => {
    const int8 = engine === 'postgres' ? 'bigint' : 'integer';
    await db.schema
      .createTable('findings4')
      // SQLite: an `integer primary key` is the rowid: the facts live in one b-tree keyed by the integer.
      .addColumn('key', int8, (c) => c.primaryKey())
      .addColumn('fingerprint', 'text', (c) => c.notNull().unique())
      .addColumn('cluster', 'text', (c) => c.notNull())
      .addColumn('policy', 'text', (c) => c.notNull())
      .addColumn('severity', 'text', (c) => c.notNull())
      .addColumn('resource', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('message', 'text', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('finding_spans4')
      .addColumn('key', int8, (c) => c.notNull())
      .addColumn('cluster', 'text', (c) => c.notNull())
      .addColumn('action', 'text', (c) => c.notNull())
      .addColumn('start_run', 'integer', (c) => c.notNull())
      .addColumn('end_run', 'integer')
      .addPrimaryKeyConstraint('finding_spans4_pk', ['key', 'start_run'])
      .$call((q) => (engine === 'sqlite' ? q.modifyEnd(sql`without rowid`) : q))
      .execute();
    await db.schema
      .createTable('key_collisions')
      .addColumn('hash', int8, (c) => c.notNull())
      .addColumn('key', int8, (c) => c.notNull())
      .addPrimaryKeyConstraint('key_collisions_pk', ['hash', 'key'])
      .execute();
    await keysFromFingerprints(db, engine, raw);
    await db.schema.dropTable('finding_spans').execute();
    await db.schema.dropTable('findings').execute();
    await db.schema.alterTable('findings4').renameTo('findings').execute();
    await db.schema.alterTable('finding_spans4').renameTo('finding_spans').execute();
    // As in migration 3 (the index names were freed with the old table).
    await db.schema.createIndex('finding_spans_open').on('finding_spans').columns(['cluster', 'end_run', 'action']).execute();
    await db.schema.createIndex('finding_spans_start').on('finding_spans').column('start_run').execute();
    await db.schema.createIndex('finding_spans_end').on('finding_spans').column('end_run').execute();
  },
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** The store's schema version (0 for a new, empty store). */
export async function schemaVersion(db: Kysely<Database>): Promise<number> {
  const tables = await db.introspection.getTables();
  if (!tables.some((t) => t.name === 'meta')) return 0;
  const row = await db.selectFrom('meta').select('value').where('key', '=', 'schema_version').executeTakeFirst();
  return row ? Number(row.value) : 0;
}

/**
 * Brings the store to SCHEMA_VERSION in one transaction. On PostgreSQL an advisory lock makes shards that open the
 * store at the same moment migrate it once; on SQLite the write transaction does the same.
 */
export async function migrate(db: Kysely<Database>, engine: Engine, raw?: Raw): Promise<number> {
  return db.transaction().execute(async (trx) => {
    if (engine === 'postgres') await sql`select pg_advisory_xact_lock(7419012)`.execute(trx);
    await trx.schema.createTable('meta').ifNotExists().addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
    const row = await trx.selectFrom('meta').select('value').where('key', '=', 'schema_version').executeTakeFirst();
    const from = row ? Number(row.value) : 0;
    if (from > SCHEMA_VERSION) return from;
    for (let v = from; v < SCHEMA_VERSION; v++) await MIGRATIONS[v](trx, engine, raw);
    if (!row) await trx.insertInto('meta').values({ key: 'schema_version', value: String(SCHEMA_VERSION) }).execute();
    else if (from < SCHEMA_VERSION) await trx.updateTable('meta').set({ value: String(SCHEMA_VERSION) }).where('key', '=', 'schema_version').execute();
    return from;
  });
}
