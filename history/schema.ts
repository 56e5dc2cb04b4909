import { sql, type Generated, type Kysely } from 'kysely';

/**
 * The history store's schema: one set of tables for both the embedded SQLite file and PostgreSQL, written with
 * Kysely's schema builder so that the same migration runs on both. Migrations are numbered; `meta.schema_version`
 * says how far a store is. Times are ISO 8601 UTC text (sorts as it reads, same on both engines).
 *
 * A finding's stable facts (policy, cluster, resource, path, severity, first message) live once in `findings`,
 * keyed by its fingerprint; a run's cluster row lists the fingerprints it saw, with the action, in one text column
 * (`run_clusters.seen`: `<fingerprint><d|w|a>` joined by commas). One row per cluster and run instead of one per
 * finding keeps the write of an 847-cluster scan (~50,000 findings) cheap and 90 nightly runs small; every question
 * about findings is asked per run or per cluster, so no query needs an index into that list.
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
    seen: string;
  };
  findings: { fingerprint: string; cluster: string; policy: string; severity: string; resource: string; path: string; message: string };
  run_drift: { run_id: number; cluster: string; resource: string; ref: string; state: string; diffs: string };
}

export type Engine = 'sqlite' | 'postgres';
type Migration = (db: Kysely<Database>, engine: Engine) => Promise<void>;

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
export async function migrate(db: Kysely<Database>, engine: Engine): Promise<number> {
  return db.transaction().execute(async (trx) => {
    if (engine === 'postgres') await sql`select pg_advisory_xact_lock(7419012)`.execute(trx);
    await trx.schema.createTable('meta').ifNotExists().addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
    const row = await trx.selectFrom('meta').select('value').where('key', '=', 'schema_version').executeTakeFirst();
    const from = row ? Number(row.value) : 0;
    if (from > SCHEMA_VERSION) return from;
    for (let v = from; v < SCHEMA_VERSION; v++) await MIGRATIONS[v](trx, engine);
    if (!row) await trx.insertInto('meta').values({ key: 'schema_version', value: String(SCHEMA_VERSION) }).execute();
    else if (from < SCHEMA_VERSION) await trx.updateTable('meta').set({ value: String(SCHEMA_VERSION) }).where('key', '=', 'schema_version').execute();
    return from;
  });
}
