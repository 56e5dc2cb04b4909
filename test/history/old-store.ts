import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { MIGRATIONS, type Database } from '../../history/schema.js';
import { fingerprint, resourceKey } from '../../history/record.js';
import type { ClusterReport } from '../../scanner/scan.js';

/**
 * A store as an older fleetgate left it: schema `version` (1 or 2), each run's cluster row listing the fingerprints
 * it saw (`seen`, `<fp><d|w|a>` joined by commas), as that release wrote them. The migration tests open it with
 * today's fleetgate and compare the answers.
 */

export interface OldRun {
  id: string;
  time: Date;
  commit: string;
  clusters: ClusterReport[];
}

async function connect(url: string): Promise<{ db: Kysely<Database>; raw?: import('better-sqlite3').Database }> {
  if (/^postgres/.test(url)) {
    const { default: pg } = await import('pg');
    return { db: new Kysely<Database>({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }) }) };
  }
  const { default: Db } = await import('better-sqlite3');
  const raw = new Db(url);
  return { db: new Kysely<Database>({ dialect: new SqliteDialect({ database: raw }) }), raw };
}

/**
 * Version 3 (presence spans by fingerprint): the store of version 2 that release wrote, converted by migration 3
 * itself (the only code that ever wrote spans by fingerprint is that migration and the release-3 writer, which
 * wrote the same rows: test/history/migrate.test.ts compares both to today's writer).
 */
export async function writeOldStore(url: string, version: 1 | 2 | 3, runs: OldRun[]): Promise<void> {
  const engine = /^postgres/.test(url) ? 'postgres' : 'sqlite';
  if (version === 3) {
    await writeOldStore(url, 2, runs);
    const { db, raw } = await connect(url);
    try {
      await MIGRATIONS[2](db, engine, raw);
      await db.updateTable('meta').set({ value: '3' }).where('key', '=', 'schema_version').execute();
    } finally {
      await db.destroy();
    }
    return;
  }
  const { db } = await connect(url);
  try {
    await db.schema.createTable('meta').addColumn('key', 'text', (c) => c.primaryKey()).addColumn('value', 'text', (c) => c.notNull()).execute();
    for (const m of MIGRATIONS.slice(0, version)) await m(db, engine, undefined);
    await db.insertInto('meta').values({ key: 'schema_version', value: String(version) }).execute();
    for (const run of runs) {
      await sql`insert into runs (name, time, ${sql.ref('commit')}, fleet, shards) values (${run.id}, ${run.time.toISOString()}, ${run.commit}, 'fleet.yaml', 1)`.execute(db);
      const { id } = await db.selectFrom('runs').select('id').where('name', '=', run.id).executeTakeFirstOrThrow();
      await sql`insert into run_shards (run_id, shard, time, clusters) values (${id}, 0, ${run.time.toISOString()}, ${run.clusters.length})`.execute(db);
      for (const c of run.clusters) await writeCluster(db, version, id, c);
    }
  } finally {
    await db.destroy();
  }
}

async function writeCluster(db: Kysely<Database>, version: number, id: number, c: ClusterReport): Promise<void> {
  const seen = new Map<string, string>();
  for (const f of c.findings) {
    const fp = fingerprint(c.name, f);
    if (seen.has(fp)) continue;
    seen.set(fp, f.action[0]);
    await sql`insert into findings (fingerprint, cluster, policy, severity, resource, path, message) values (${fp}, ${c.name}, ${f.policy}, ${f.severity}, ${resourceKey(f.resource)}, ${f.path}, ${f.message}) on conflict (fingerprint) do nothing`.execute(db);
  }
  const list = [...seen].map(([fp, a]) => fp + a).join(',');
  const objectScore = version >= 2 ? sql`, ${typeof c.objectScore === 'number' ? c.objectScore : null}` : sql``;
  await sql`insert into run_clusters (run_id, cluster, shard, labels, status, error, score, desired, in_sync, findings, drift, seen${sql.raw(version >= 2 ? ', object_score' : '')})
    values (${id}, ${c.name}, 0, ${JSON.stringify(c.labels)}, ${c.status}, ${c.error ?? null}, ${c.score}, ${c.desired}, ${c.inSync}, ${c.findings.length}, ${c.drift.length}, ${list}${objectScore})`.execute(db);
  for (const d of c.drift)
    await sql`insert into run_drift (run_id, cluster, resource, ref, state, diffs) values (${id}, ${c.name}, ${resourceKey(d.resource)}, ${`${d.resource.apiVersion} ${d.resource.kind}`}, ${d.state}, ${JSON.stringify(d.diffs)})`.execute(db);
}
