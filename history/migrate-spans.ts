import { sql, type Kysely } from 'kysely';
import { insertMany, type Raw } from './bulk.js';
import type { Database } from './schema.js';

/**
 * Migration 3's data step: each cluster's runs, in run order, turned from the per-run lists of fingerprints
 * (`run_clusters.seen`: `<fingerprint><d|w|a>` joined by commas) into presence spans. Only runs that judged the
 * cluster (status ok) open or close a span, as a run's write does since (record.ts). One cluster at a time, so a
 * store of 90 runs is never read whole.
 */

const ACTIONS: Record<string, string> = { d: 'deny', w: 'warn', a: 'audit' };

/** `<fp><action>,…` → fingerprint → action (deny, warn, audit). */
export function parseSeen(seen: string): Map<string, string> {
  const out = new Map<string, string>();
  if (!seen) return out;
  for (const e of seen.split(',')) out.set(e.slice(0, -1), ACTIONS[e[e.length - 1]] ?? e[e.length - 1]);
  return out;
}

/** A span as schema 3 kept it (by fingerprint; migration 4 keys them by integer). */
type Span = { fingerprint: string; cluster: string; action: string; start_run: number; end_run: number | null };
const V3_TYPES = { fingerprint: 'text', cluster: 'text', action: 'text', start_run: 'int4', end_run: 'int4' };

/** The spans of one cluster from its runs' lists, oldest run first. */
export function spansOf(cluster: string, runs: readonly { run_id: number; status: string; seen: string }[]): Span[] {
  const out: Span[] = [];
  const open = new Map<string, { action: string; start: number }>();
  for (const r of runs) {
    if (r.status !== 'ok') continue;
    const now = parseSeen(r.seen);
    for (const [fp, o] of open) {
      if (now.get(fp) === o.action) continue;
      out.push({ fingerprint: fp, cluster, action: o.action, start_run: o.start, end_run: r.run_id });
      open.delete(fp);
    }
    for (const [fp, action] of now) if (!open.has(fp)) open.set(fp, { action, start: r.run_id });
  }
  for (const [fp, o] of open) out.push({ fingerprint: fp, cluster, action: o.action, start_run: o.start, end_run: null });
  return out;
}

export async function spansFromSeen(db: Kysely<Database>, raw: Raw): Promise<void> {
  const clusters = await sql<{ cluster: string }>`select distinct cluster from run_clusters`.execute(db);
  for (const { cluster } of clusters.rows) {
    const runs = await sql<{ run_id: number; status: string; seen: string }>`select run_id, status, seen from run_clusters where cluster = ${cluster} order by run_id`.execute(db);
    await insertMany(raw, db, 'finding_spans', spansOf(cluster, runs.rows) as never[], undefined, V3_TYPES);
  }
}
