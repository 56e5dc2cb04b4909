import { sql, type Insertable, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/** Rows per PostgreSQL statement: one array parameter per column, so the statement's text does not grow with it. */
const CHUNK = 20_000;

/** PostgreSQL array type of each column of the tables written in bulk (unnest needs them). */
const FACTS = { key: 'int8', fingerprint: 'text', cluster: 'text', policy: 'text', severity: 'text', resource: 'text', path: 'text', message: 'text' };
export const PG_TYPES: Partial<Record<keyof Database | 'findings4' | 'finding_spans4', Record<string, string>>> = {
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
  },
  findings: FACTS,
  findings4: FACTS,
  finding_spans: { key: 'int8', cluster: 'text', action: 'text', start_run: 'int4', end_run: 'int4' },
  run_drift: { run_id: 'int4', cluster: 'text', resource: 'text', ref: 'text', state: 'text', diffs: 'text' },
};

/** The embedded store's connection (Kysely's only one, the one an open transaction holds), when it is SQLite. */
export type Raw = import('better-sqlite3').Database | undefined;

/**
 * Inserts many rows inside the open transaction. PostgreSQL: `INSERT … SELECT * FROM unnest($1::text[], …)`, one
 * array per column, so 36,000 findings are two statements with seven parameters each (a multi-row VALUES list of
 * 1,000 rows is 7,000 parameters that Kysely compiles and the server parses, per chunk). SQLite: one prepared
 * statement run per row on the store's only connection: preparing a new multi-row statement per chunk costs SQLite
 * about ten times more than the inserts themselves.
 */
export async function insertMany<T extends keyof Database>(
  raw: Raw,
  trx: Kysely<Database>,
  table: T,
  rows: Insertable<Database[T]>[],
  ignoreConflictOn?: string,
  types: Record<string, string> | undefined = PG_TYPES[table],
): Promise<void> {
  if (!rows.length) return;
  const cols = Object.keys(rows[0] as object);
  if (raw) {
    const stmt = raw.prepare(`insert ${ignoreConflictOn ? 'or ignore ' : ''}into "${table}" (${cols.map((c) => `"${c}"`).join(', ')}) values (${cols.map(() => '?').join(', ')})`);
    for (const r of rows) stmt.run(cols.map((c) => (r as Record<string, unknown>)[c] ?? null));
    return;
  }
  if (!types) throw new Error(`insertMany: no column types for ${table}`);
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK) as Record<string, unknown>[];
    const arrays = cols.map((c) => sql`${chunk.map((r) => r[c] ?? null)}::${sql.raw(types[c])}[]`);
    const conflict = ignoreConflictOn ? sql` on conflict (${sql.ref(ignoreConflictOn)}) do nothing` : sql``;
    await sql`insert into ${sql.table(table)} (${sql.join(cols.map((c) => sql.ref(c)))}) select * from unnest(${sql.join(arrays)})${conflict}`.execute(trx);
  }
}

/** Closes the open spans of these findings (by key) at run `end` (the first run that no longer saw them). */
export async function closeSpans(raw: Raw, trx: Kysely<Database>, end: number, keys: readonly number[]): Promise<void> {
  if (!keys.length) return;
  if (raw) {
    const stmt = raw.prepare('update finding_spans set end_run = ? where key = ? and end_run is null');
    for (const k of keys) stmt.run(end, k);
    return;
  }
  for (let i = 0; i < keys.length; i += CHUNK) await sql`update finding_spans set end_run = ${end} where end_run is null and key = any(${keys.slice(i, i + CHUNK)}::int8[])`.execute(trx);
}

/** Values of `list` in chunks small enough for an `in (…)` list on both engines. */
export function* chunks<T>(list: readonly T[], size = 500): Generator<T[]> {
  for (let i = 0; i < list.length; i += size) yield list.slice(i, i + size);
}
