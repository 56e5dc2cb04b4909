import { sql, type Kysely } from 'kysely';
import { insertMany, type Raw } from './bulk.js';
import { KEY_SPACE, storedFingerprint } from './keys.js';
import type { Database } from './schema.js';

/**
 * The facts of findings (`findings`, schema 4) by their 51-bit key (keys.ts findingKey). A key is a hash, so two
 * findings can have the same one: the store gives each key to one finding, compared field by field (cluster,
 * policy, resource, path), and a finding whose key is taken gets the next free key, recorded in `key_collisions`
 * (hash → key) so that later runs look it up there. The SHA-256 fingerprint is computed here, for the findings
 * whose facts are stored for the first time.
 */

type Db = Kysely<Database>;

/** What names a finding in the store (its key is a hash of these) and what is kept of it. */
export interface Fact {
  hash: number;
  cluster: string;
  policy: string;
  severity: string;
  resource: string;
  path: string;
  message: string;
  /** Kept as stored (migration 4 converts stored facts); computed when absent. */
  fingerprint?: string;
}

type Identity = Pick<Fact, 'cluster' | 'policy' | 'resource' | 'path'>;

export const sameFinding = (a: Identity, b: Identity) => a.cluster === b.cluster && a.policy === b.policy && a.resource === b.resource && a.path === b.path;

/** The facts table being written: `findings`, or migration 4's new table before it takes that name. */
export type FactsTable = 'findings' | 'findings4';

/** The identity of the stored findings with these keys. */
export async function readIdentities(raw: Raw, trx: Db, keys: readonly number[], table: FactsTable = 'findings'): Promise<Map<number, Identity>> {
  const out = new Map<number, Identity>();
  if (!keys.length) return out;
  if (raw) {
    const stmt = raw.prepare(`select cluster, policy, resource, path from ${table} where key = ?`);
    for (const k of keys) {
      const row = stmt.get(k) as Identity | undefined;
      if (row) out.set(k, row);
    }
    return out;
  }
  for (let i = 0; i < keys.length; i += 20_000) {
    const part = keys.slice(i, i + 20_000);
    const rows = await sql<Identity & { key: number }>`select key, cluster, policy, resource, path from ${sql.table(table)} where key = any(${part}::int8[])`.execute(trx);
    for (const r of rows.rows) out.set(Number(r.key), r);
  }
  return out;
}

/** Hash → the keys other than the hash itself that findings with that hash were given (normally none). */
export async function readCollisions(trx: Db): Promise<Map<number, number[]>> {
  const out = new Map<number, number[]>();
  for (const r of await trx.selectFrom('key_collisions').select(['hash', 'key']).execute()) out.set(Number(r.hash), [...(out.get(Number(r.hash)) ?? []), Number(r.key)]);
  return out;
}

/**
 * The key of each of these findings in the store, their facts stored if they were not: a finding already stored
 * under its hash keeps that key; one whose hash is another's is moved (probe). `collisions` is updated with the
 * moves made. Returns the keys in the order of `facts`.
 */
export async function storeFacts(raw: Raw, trx: Db, facts: readonly Fact[], collisions: Map<number, number[]>, table: FactsTable = 'findings'): Promise<number[]> {
  const keys = new Array<number>(facts.length);
  const stored = await readIdentities(raw, trx, [...new Set(facts.map((f) => f.hash))], table);
  const rows: Database['findings'][] = [];
  const moved: number[] = [];
  facts.forEach((f, i) => {
    const there = stored.get(f.hash);
    if (!there) {
      stored.set(f.hash, f);
      rows.push(factRow(f, f.hash));
      keys[i] = f.hash;
    } else if (sameFinding(there, f)) keys[i] = f.hash;
    else moved.push(i);
  });
  // In key order: the facts' b-tree is then filled forward (a first run stores ~750,000).
  rows.sort((x, y) => x.key - y.key);
  await insertMany(raw, trx, table as 'findings', rows);
  for (const i of moved) keys[i] = await probe(raw, trx, facts[i], collisions, table);
  return keys;
}

const factRow = (f: Fact, key: number): Database['findings'] => ({
  key,
  fingerprint: f.fingerprint ?? storedFingerprint(f.cluster, f.policy, f.resource, f.path),
  cluster: f.cluster,
  policy: f.policy,
  severity: f.severity,
  resource: f.resource,
  path: f.path,
  message: f.message,
});

/** The next key after the finding's hash that is free (or already its own), taken and recorded. */
async function probe(raw: Raw, trx: Db, f: Fact, collisions: Map<number, number[]>, table: FactsTable): Promise<number> {
  for (let k = (f.hash + 1) % KEY_SPACE; ; k = (k + 1) % KEY_SPACE) {
    const there = (await readIdentities(raw, trx, [k], table)).get(k);
    if (there && !sameFinding(there, f)) continue;
    if (!there) await insertMany(raw, trx, table as 'findings', [factRow(f, k)]);
    if (!(collisions.get(f.hash) ?? []).includes(k)) {
      await trx.insertInto('key_collisions').values({ hash: f.hash, key: k }).execute();
      collisions.set(f.hash, [...(collisions.get(f.hash) ?? []), k]);
    }
    return k;
  }
}

/** The key a finding whose hash has collided has in the store (its hash or one of its moves), if it is stored. */
export async function resolveKey(raw: Raw, trx: Db, f: Identity & { hash: number }, collisions: Map<number, number[]>): Promise<number | undefined> {
  const candidates = [f.hash, ...(collisions.get(f.hash) ?? [])];
  const stored = await readIdentities(raw, trx, candidates);
  return candidates.find((k) => stored.has(k) && sameFinding(stored.get(k)!, f));
}
