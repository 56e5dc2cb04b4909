import { CompiledQuery, sql } from 'kysely';
import { describeKey, type RunInfo } from './queries.js';
import type { Database } from './schema.js';
import type { Store } from './store.js';

/**
 * What changed from run A to run B. A finding's presence changes only at an end of one of its spans, so the
 * findings that differ are among the spans that start or end between the two runs (two indexed range reads): the
 * findings both runs saw, or neither, are never read.
 */

export interface FindingRow {
  fingerprint: string;
  cluster: string;
  policy: string;
  severity: string;
  action: string;
  resource: string;
  path: string;
  message: string;
}

export interface DriftRow {
  cluster: string;
  resource: string;
  state: string;
  diffs: { path: string; desired: unknown; live: unknown }[];
}

export interface RunDiff {
  from: RunInfo;
  to: RunInfo;
  newFindings: FindingRow[];
  resolvedFindings: FindingRow[];
  newDrift: DriftRow[];
  fixedDrift: DriftRow[];
  statusChanges: { cluster: string; from: string | null; to: string | null; reason: string }[];
  scoreChanges: { cluster: string; from: number; to: number }[];
}

type Span = Pick<Database['finding_spans'], 'start_run' | 'end_run'>;

/** The span saw the finding in run `id` (given its cluster was judged in that run). */
export const covers = (s: Span, id: number) => s.start_run <= id && (s.end_run === null || s.end_run > id);

const FACT_COLUMNS = 'fingerprint, cluster, policy, severity, resource, path, message';

/** The stored facts of these findings (key → the action each had in the run that saw it). */
async function findingFacts(store: Store, actions: Map<number, string>): Promise<FindingRow[]> {
  const out: FindingRow[] = [];
  const add = (key: number, r: Omit<FindingRow, 'action'>) => out.push({ ...r, action: actions.get(key)!, resource: describeKey(r.resource) });
  if (store.sqlite) {
    // One prepared statement for all of them, keys in order (the facts' b-tree read forward), rows as arrays.
    const keys = JSON.stringify([...actions.keys()].sort((x, y) => x - y));
    const stmt = store.sqlite.prepare(`select key, ${FACT_COLUMNS} from findings where key in (select value from json_each(?))`).raw(true);
    for (const [key, fingerprint, cluster, policy, severity, resource, path, message] of stmt.all(keys) as [number, ...string[]][])
      add(key, { fingerprint, cluster, policy, severity, resource, path, message });
    return out;
  }
  const keys = [...actions.keys()];
  for (let i = 0; i < keys.length; i += 20_000) {
    const rows = await sql<Omit<FindingRow, 'action'> & { key: number }>`select key, ${sql.raw(FACT_COLUMNS)} from findings where key = any(${keys.slice(i, i + 20_000)}::int8[])`.execute(store.db);
    for (const { key, ...r } of rows.rows) add(Number(key), r);
  }
  return out;
}

const SEV = { critical: 0, high: 1, medium: 2, low: 3 } as Record<string, number>;
const bySeverity = (a: FindingRow, b: FindingRow) => (SEV[a.severity] ?? 9) - (SEV[b.severity] ?? 9) || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : a.fingerprint < b.fingerprint ? -1 : 1);

type ClusterRow = { cluster: string; status: string; error: string | null; score: number | null };

function statusAndScore(inA: Map<string, ClusterRow>, inB: Map<string, ClusterRow>): Pick<RunDiff, 'statusChanges' | 'scoreChanges'> {
  const statusChanges: RunDiff['statusChanges'] = [];
  const scoreChanges: RunDiff['scoreChanges'] = [];
  for (const name of new Set([...inA.keys(), ...inB.keys()])) {
    const x = inA.get(name);
    const y = inB.get(name);
    if (!y) statusChanges.push({ cluster: name, from: x!.status, to: null, reason: 'not in the later run (left the fleet or another shard is missing)' });
    else if (!x) statusChanges.push({ cluster: name, from: null, to: y.status, reason: y.status === 'ok' ? `new in the fleet, score ${y.score}` : (y.error ?? y.status) });
    else if (x.status !== y.status) statusChanges.push({ cluster: name, from: x.status, to: y.status, reason: y.status === 'ok' ? `scanned again, score ${y.score}` : (y.error ?? y.status) });
    else if (x.score !== null && y.score !== null && x.score !== y.score) scoreChanges.push({ cluster: name, from: Number(x.score), to: Number(y.score) });
  }
  return {
    statusChanges: statusChanges.sort((x, y) => (x.cluster < y.cluster ? -1 : 1)),
    scoreChanges: scoreChanges.sort((x, y) => x.to - x.from - (y.to - y.from) || (x.cluster < y.cluster ? -1 : 1)),
  };
}

/**
 * The spans whose ends lie between the runs `lo` < `hi`, as the database can compare them without handing each to
 * JS: side 0 spans saw the finding in `lo` and ended by `hi`, side 1 spans began after `lo` and saw it in `hi`. Spans
 * of one finding never overlap, so a finding has at most one span on each side, and it differs between the runs
 * exactly when it has one side only. Spans that began and ended in between (a finding that came and went) and spans
 * covering both runs are read by neither side's range, and a finding with a gap in between (on both sides) is
 * grouped away: the answer is the changes, not every span boundary of the nights between.
 */
const ONE_SIDED = `select key, min(cluster) as cluster, min(action) as action, min(side) as side from (
    select key, cluster, action, 0 as side from finding_spans where end_run > @lo and end_run <= @hi and start_run <= @lo
    union all
    select key, cluster, action, 1 as side from finding_spans where start_run > @lo and start_run <= @hi and (end_run is null or end_run > @hi)
  ) as sides group by key having count(*) = 1`;

/**
 * Findings B saw and A did not (added), and the reverse (gone), with the action of the run that saw each, on the
 * comparable clusters.
 */
async function changedFindings(store: Store, a: number, b: number, comparable: Set<string>): Promise<{ added: Map<number, string>; gone: Map<number, string> }> {
  const [lo, hi] = a < b ? [a, b] : [b, a];
  const atLo = new Map<number, string>();
  const atHi = new Map<number, string>();
  const take = (key: number, cluster: string, action: string, side: number) => {
    if (comparable.has(cluster)) (side === 0 ? atLo : atHi).set(key, action);
  };
  if (store.sqlite) {
    const stmt = store.sqlite.prepare(ONE_SIDED).raw(true);
    for (const [key, cluster, action, side] of stmt.all({ lo, hi }) as [number, string, string, number][]) take(key, cluster, action, side);
  } else {
    const rows = await store.db.executeQuery<{ key: string; cluster: string; action: string; side: number }>(CompiledQuery.raw(ONE_SIDED.replaceAll('@lo', '$1').replaceAll('@hi', '$2'), [lo, hi]));
    for (const r of rows.rows) take(Number(r.key), r.cluster, r.action, Number(r.side));
  }
  return a < b ? { added: atHi, gone: atLo } : { added: atLo, gone: atHi };
}

async function driftChanges(store: Store, a: number, b: number, comparable: Set<string>): Promise<Pick<RunDiff, 'newDrift' | 'fixedDrift'>> {
  const drift = await store.db.selectFrom('run_drift').select(['run_id', 'cluster', 'resource', 'state', 'diffs']).where('run_id', 'in', [a, b]).execute();
  const key = (d: { cluster: string; resource: string; state: string }) => `${d.cluster}\n${d.resource}\n${d.state}`;
  const dA = new Map(drift.filter((d) => d.run_id === a).map((d) => [key(d), d]));
  const dB = new Map(drift.filter((d) => d.run_id === b).map((d) => [key(d), d]));
  const driftRow = (d: (typeof drift)[number]): DriftRow => ({ cluster: d.cluster, resource: describeKey(d.resource), state: d.state, diffs: JSON.parse(d.diffs) });
  const sortD = (x: DriftRow, y: DriftRow) => (x.cluster < y.cluster ? -1 : x.cluster > y.cluster ? 1 : x.resource < y.resource ? -1 : 1);
  return {
    newDrift: [...dB].filter(([k, d]) => !dA.has(k) && comparable.has(d.cluster)).map(([, d]) => driftRow(d)).sort(sortD),
    fixedDrift: [...dA].filter(([k, d]) => !dB.has(k) && comparable.has(d.cluster)).map(([, d]) => driftRow(d)).sort(sortD),
  };
}

/**
 * Findings and drift are compared only on clusters scanned (status ok) in both runs: a cluster that was unreachable
 * is a status change, not "all its findings resolved".
 */
export async function diffRuns(store: Store, a: RunInfo, b: RunInfo): Promise<RunDiff> {
  return store.guard('comparing runs', async () => {
    const clusters = await store.db.selectFrom('run_clusters').select(['run_id', 'cluster', 'status', 'error', 'score']).where('run_id', 'in', [a.id, b.id]).execute();
    const inA = new Map(clusters.filter((c) => c.run_id === a.id).map((c) => [c.cluster, c]));
    const inB = new Map(clusters.filter((c) => c.run_id === b.id).map((c) => [c.cluster, c]));
    const comparable = new Set([...inB.keys()].filter((n) => inA.get(n)?.status === 'ok' && inB.get(n)?.status === 'ok'));
    const { added, gone } = await changedFindings(store, a.id, b.id, comparable);
    return {
      from: a,
      to: b,
      newFindings: (await findingFacts(store, added)).sort(bySeverity),
      resolvedFindings: (await findingFacts(store, gone)).sort(bySeverity),
      ...(await driftChanges(store, a.id, b.id, comparable)),
      ...statusAndScore(inA, inB),
    };
  });
}
