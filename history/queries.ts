import { sql } from 'kysely';
import type { Store } from './store.js';
import { HistoryError } from './store.js';

/**
 * Read side of the store: runs and trends here; the diff of two runs in diff.ts, the timeline of one finding or one
 * cluster and a rollout's window of findings in timelines.ts (re-exported below).
 */

export interface RunInfo {
  id: number;
  run: string;
  time: string;
  commit: string | null;
  /** Fleet score of the run: the mean over its scored clusters (null when none was scored). */
  score: number | null;
  /** Fleet objectScore of the run, the mean alike (null for runs recorded before the store had it). */
  objectScore: number | null;
  clusters: number;
  scored: number;
  shards: number;
  /** Shards recorded so far (a run is complete when shardsDone = shards). */
  shardsDone: number;
}

const round1 = (n: number | null) => (n === null || n === undefined ? null : Math.round(Number(n) * 10) / 10);

/** `group/Kind/ns/name` → `Kind ns/name` (as reports say it). */
export function describeKey(key: string): string {
  const [, kind, ns, ...name] = key.split('/');
  return ns ? `${kind} ${ns}/${name.join('/')}` : `${kind}/${name.join('/')}`;
}

export async function listRuns(store: Store, opts: { since?: Date; last?: number } = {}): Promise<RunInfo[]> {
  return store.guard('reading runs', async () => {
    let q = store.db
      .selectFrom('runs as r')
      .leftJoin('run_clusters as c', 'c.run_id', 'r.id')
      .select((eb) => [
        'r.id',
        'r.name',
        'r.time',
        'r.commit',
        'r.shards',
        eb.fn.avg<number | null>('c.score').as('score'),
        eb.fn.avg<number | null>('c.object_score').as('object_score'),
        eb.fn.count<number>('c.cluster').as('clusters'),
        eb.fn.count<number>('c.score').as('scored'),
        eb.selectFrom('run_shards as s').select((e2) => e2.fn.countAll<number>().as('n')).whereRef('s.run_id', '=', 'r.id').as('shards_done'),
      ])
      .groupBy(['r.id', 'r.name', 'r.time', 'r.commit', 'r.shards'])
      .orderBy('r.time', 'desc')
      .orderBy('r.id', 'desc');
    if (opts.since) q = q.where('r.time', '>=', opts.since.toISOString());
    if (opts.last) q = q.limit(opts.last);
    const rows = await q.execute();
    return rows.reverse().map((r) => ({
      id: r.id,
      run: r.name,
      time: r.time,
      commit: r.commit,
      score: round1(r.score),
      objectScore: round1(r.object_score),
      clusters: Number(r.clusters),
      scored: Number(r.scored),
      shards: r.shards,
      shardsDone: Number(r.shards_done),
    }));
  });
}

/** A run by its id (or a unique prefix of it); `undefined` → the latest. */
export async function resolveRun(store: Store, name: string | undefined, runs?: RunInfo[]): Promise<RunInfo> {
  const all = runs ?? (await listRuns(store));
  if (!all.length) throw new HistoryError('usage', `history store ${store.where} has no runs yet (write one with "fleetgate scan --history ...")`);
  if (name === undefined) return all[all.length - 1];
  const exact = all.find((r) => r.run === name);
  if (exact) return exact;
  const pre = all.filter((r) => r.run.startsWith(name));
  if (pre.length === 1) return pre[0];
  throw new HistoryError('usage', pre.length ? `run "${name}" is ambiguous: ${pre.map((r) => r.run).join(', ')}` : `no run "${name}" in ${store.where} (see "fleetgate history trend")`);
}

export interface Series {
  name: string;
  /** One entry per run of `runs` (null: not scanned or not scored in that run). */
  scores: (number | null)[];
}

export interface Trend {
  runs: RunInfo[];
  /** Per label key (region, cohort, ...): the mean score of the scored clusters with each value. */
  by: Record<string, Series[]>;
  clusters: Series[];
  /** The same series of objectScore (`by` and `clusters` alike; null in runs recorded before the store had it). */
  objects: { by: Record<string, Series[]>; clusters: Series[] };
}

export async function trend(store: Store, opts: { since?: Date; last?: number; by?: string[]; clusters?: string[] } = {}): Promise<Trend> {
  const runs = await listRuns(store, opts);
  const keys = opts.by ?? ['region', 'cohort'];
  const index = new Map(runs.map((r, i) => [r.id, i]));
  const rows = runs.length ? await store.guard('reading the trend', () => trendRows(store, runs, opts.clusters)) : [];
  const groups = new Map<string, Map<string, { score: Mean; objects: Mean }>>(keys.map((k) => [k, new Map()]));
  const clusters = new Map<string, { scores: (number | null)[]; objectScores: (number | null)[] }>();
  const blank = () => new Array<number | null>(runs.length).fill(null);
  for (const r of rows) {
    let series = clusters.get(r.cluster);
    if (!series) clusters.set(r.cluster, (series = { scores: blank(), objectScores: blank() }));
    const labels = JSON.parse(r.labels) as Record<string, string>;
    const accs = keys.map((k) => {
      const v = labels[k] ?? '(none)';
      const g = groups.get(k)!;
      return g.get(v) ?? g.set(v, { score: new Mean(runs.length), objects: new Mean(runs.length) }).get(v)!;
    });
    for (const id in r.scores) {
      const i = index.get(Number(id))!;
      const [score, objectScore] = r.scores[id];
      series.scores[i] = score === null ? null : Number(score);
      series.objectScores[i] = objectScore === null ? null : Number(objectScore);
      if (score === null) continue;
      for (const acc of accs) {
        acc.score.add(i, score);
        acc.objects.add(i, objectScore);
      }
    }
  }
  const byName = (a: Series, b: Series) => (a.name < b.name ? -1 : 1);
  const by: Record<string, Series[]> = {};
  const objectsBy: Record<string, Series[]> = {};
  for (const [k, g] of groups) {
    by[k] = [...g.entries()].map(([name, a]) => ({ name, scores: a.score.values() })).sort(byName);
    objectsBy[k] = [...g.entries()].map(([name, a]) => ({ name, scores: a.objects.values() })).sort(byName);
  }
  const named = [...clusters.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
  return {
    runs,
    by,
    clusters: named.map(([name, s]) => ({ name, scores: s.scores })),
    objects: { by: objectsBy, clusters: named.map(([name, s]) => ({ name, scores: s.objectScores })) },
  };
}

/**
 * The runs' cluster rows in one grouped read: a row per cluster and labels, its scores per run as one JSON object
 * (run id → [score, objectScore]) built by the engine (json_group_object / json_object_agg): ~850 rows for 90 runs
 * of 847 clusters instead of ~76,000.
 */
async function trendRows(store: Store, runs: RunInfo[], clusters?: string[]): Promise<{ cluster: string; labels: string; scores: Record<string, [number | null, number | null]> }[]> {
  const ids = runs.map((r) => r.id);
  const only = clusters?.length ? sql` and cluster in (${sql.join(clusters)})` : sql``;
  const agg = store.engine === 'postgres' ? sql`json_object_agg(run_id, json_build_array(score, object_score))` : sql`json_group_object(run_id, json_array(score, object_score))`;
  const rows = await sql<{ cluster: string; labels: string; scores: string | Record<string, [number | null, number | null]> }>`select cluster, labels, ${agg} as scores from run_clusters where run_id in (${sql.join(ids)})${only} group by cluster, labels`.execute(store.db);
  return rows.rows.map((r) => ({ cluster: r.cluster, labels: r.labels, scores: typeof r.scores === 'string' ? JSON.parse(r.scores) : r.scores }));
}

/** Means per run of the values added (null where none was). */
class Mean {
  private readonly sum: number[];
  private readonly n: number[];
  constructor(runs: number) {
    this.sum = new Array(runs).fill(0);
    this.n = new Array(runs).fill(0);
  }
  add(i: number, v: number | null): void {
    if (v === null || v === undefined) return;
    this.sum[i] += Number(v);
    this.n[i]++;
  }
  values(): (number | null)[] {
    return this.sum.map((s, i) => (this.n[i] ? round1(s / this.n[i]) : null));
  }
}

export { diffRuns, type DriftRow, type FindingRow, type RunDiff } from './diff.js';
export { clusterTimeline, findingsSince, findingTimeline, type ClusterTimeline, type FindingsWindow, type FindingTimeline } from './timelines.js';
