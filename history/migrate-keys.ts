import { sql, type Kysely } from 'kysely';
import type { Raw } from './bulk.js';
import { storeFacts, type Fact } from './facts.js';
import { findingKey } from './keys.js';
import type { Database, Engine } from './schema.js';

/**
 * Migration 4's data step: the facts of schema 3 (`findings`, by fingerprint) copied into `findings4` under their
 * 51-bit key (collisions moved as a run moves them, facts.ts), a page at a time in fingerprint order; then the
 * spans copied into `finding_spans4` with the key of their fingerprint, in one statement.
 */

const PAGE = 10_000;

type V3Fact = Omit<Fact, 'hash'> & { fingerprint: string };

async function page(db: Kysely<Database>, raw: Raw, after: string): Promise<V3Fact[]> {
  if (raw) return raw.prepare('select fingerprint, cluster, policy, severity, resource, path, message from findings where fingerprint > ? order by fingerprint limit ?').all(after, PAGE) as V3Fact[];
  const rows = await sql<V3Fact>`select fingerprint, cluster, policy, severity, resource, path, message from findings where fingerprint > ${after} order by fingerprint limit ${PAGE}`.execute(db);
  return rows.rows;
}

export async function keysFromFingerprints(db: Kysely<Database>, _engine: Engine, raw: Raw): Promise<void> {
  const collisions = new Map<number, number[]>();
  for (let after = ''; ; ) {
    const rows = await page(db, raw, after);
    if (!rows.length) break;
    await storeFacts(raw, db, rows.map((r) => ({ ...r, hash: findingKey(r.cluster, r.policy, r.resource, r.path) })), collisions, 'findings4');
    after = rows[rows.length - 1].fingerprint;
  }
  await sql`insert into finding_spans4 (key, cluster, action, start_run, end_run)
    select f.key, s.cluster, s.action, s.start_run, s.end_run from finding_spans s join findings4 f on f.fingerprint = s.fingerprint`.execute(db);
}
