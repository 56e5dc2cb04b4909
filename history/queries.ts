import type { Store } from './store.js';
import { parseSeen } from './record.js';
import { HistoryError } from './store.js';

/** Read side of the store: runs, trends, the diff of two runs, the timeline of one finding or one cluster. */

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
  const rows = runs.length
    ? await store.guard('reading the trend', () => {
        let q = store.db.selectFrom('run_clusters').select(['run_id', 'cluster', 'labels', 'score', 'object_score']).where('run_id', 'in', runs.map((r) => r.id));
        if (opts.clusters?.length) q = q.where('cluster', 'in', opts.clusters);
        return q.execute();
      })
    : [];
  const groups = new Map<string, Map<string, { score: Mean; objects: Mean }>>(keys.map((k) => [k, new Map()]));
  const clusters = new Map<string, { scores: (number | null)[]; objectScores: (number | null)[] }>();
  const labelCache = new Map<string, Record<string, string>>();
  const blank = () => new Array<number | null>(runs.length).fill(null);
  for (const r of rows) {
    const i = index.get(r.run_id)!;
    let series = clusters.get(r.cluster);
    if (!series) clusters.set(r.cluster, (series = { scores: blank(), objectScores: blank() }));
    series.scores[i] = r.score === null ? null : Number(r.score);
    series.objectScores[i] = r.object_score === null ? null : Number(r.object_score);
    if (r.score === null) continue;
    let labels = labelCache.get(r.labels);
    if (!labels) labelCache.set(r.labels, (labels = JSON.parse(r.labels) as Record<string, string>));
    for (const k of keys) {
      const v = labels[k] ?? '(none)';
      const g = groups.get(k)!;
      let acc = g.get(v);
      if (!acc) g.set(v, (acc = { score: new Mean(runs.length), objects: new Mean(runs.length) }));
      acc.score.add(i, r.score);
      acc.objects.add(i, r.object_score);
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

/** The stored facts of these findings (with the action each had in the run that saw it). */
async function findingFacts(store: Store, actions: Map<string, string>): Promise<FindingRow[]> {
  const fps = [...actions.keys()];
  const out: FindingRow[] = [];
  for (let i = 0; i < fps.length; i += 500) {
    const rows = await store.db.selectFrom('findings').selectAll().where('fingerprint', 'in', fps.slice(i, i + 500)).execute();
    for (const r of rows) out.push({ ...r, action: actions.get(r.fingerprint)!, resource: describeKey(r.resource) });
  }
  return out;
}

const SEV = { critical: 0, high: 1, medium: 2, low: 3 } as Record<string, number>;
const bySeverity = (a: FindingRow, b: FindingRow) => (SEV[a.severity] ?? 9) - (SEV[b.severity] ?? 9) || (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : a.fingerprint < b.fingerprint ? -1 : 1);

/**
 * What changed from run A to run B. Findings and drift are compared only on clusters scanned (status ok) in both
 * runs: a cluster that was unreachable is a status change, not "all its findings resolved".
 */
export async function diffRuns(store: Store, a: RunInfo, b: RunInfo): Promise<RunDiff> {
  return store.guard('comparing runs', async () => {
    const clusters = await store.db.selectFrom('run_clusters').select(['run_id', 'cluster', 'status', 'error', 'score', 'seen']).where('run_id', 'in', [a.id, b.id]).execute();
    const inA = new Map(clusters.filter((c) => c.run_id === a.id).map((c) => [c.cluster, c]));
    const inB = new Map(clusters.filter((c) => c.run_id === b.id).map((c) => [c.cluster, c]));
    const comparable = new Set([...inB.keys()].filter((n) => inA.get(n)?.status === 'ok' && inB.get(n)?.status === 'ok'));
    const statusChanges: RunDiff['statusChanges'] = [];
    const scoreChanges: RunDiff['scoreChanges'] = [];
    for (const name of new Set([...inA.keys(), ...inB.keys()])) {
      const x = inA.get(name);
      const y = inB.get(name);
      if (!y) statusChanges.push({ cluster: name, from: x!.status, to: null, reason: 'not in the later run (left the fleet or another shard is missing)' });
      else if (!x) statusChanges.push({ cluster: name, from: null, to: y.status, reason: y.status === 'ok' ? `new in the fleet, score ${y.score}` : (y.error ?? y.status) });
      else if (x.status !== y.status)
        statusChanges.push({ cluster: name, from: x.status, to: y.status, reason: y.status === 'ok' ? `scanned again, score ${y.score}` : (y.error ?? y.status) });
      else if (x.score !== null && y.score !== null && x.score !== y.score) scoreChanges.push({ cluster: name, from: Number(x.score), to: Number(y.score) });
    }
    // Findings: per comparable cluster, the fingerprints one run saw and the other did not.
    const added = new Map<string, string>();
    const gone = new Map<string, string>();
    for (const name of comparable) {
      const x = parseSeen(inA.get(name)!.seen);
      const y = parseSeen(inB.get(name)!.seen);
      for (const [fp, act] of y) if (!x.has(fp)) added.set(fp, act);
      for (const [fp, act] of x) if (!y.has(fp)) gone.set(fp, act);
    }
    const drift = await store.db.selectFrom('run_drift').select(['run_id', 'cluster', 'resource', 'state', 'diffs']).where('run_id', 'in', [a.id, b.id]).execute();
    const key = (d: { cluster: string; resource: string; state: string }) => `${d.cluster}\n${d.resource}\n${d.state}`;
    const dA = new Map(drift.filter((d) => d.run_id === a.id).map((d) => [key(d), d]));
    const dB = new Map(drift.filter((d) => d.run_id === b.id).map((d) => [key(d), d]));
    const driftRow = (d: (typeof drift)[number]): DriftRow => ({ cluster: d.cluster, resource: describeKey(d.resource), state: d.state, diffs: JSON.parse(d.diffs) });
    const sortD = (x: DriftRow, y: DriftRow) => (x.cluster < y.cluster ? -1 : x.cluster > y.cluster ? 1 : x.resource < y.resource ? -1 : 1);
    return {
      from: a,
      to: b,
      newFindings: (await findingFacts(store, added)).sort(bySeverity),
      resolvedFindings: (await findingFacts(store, gone)).sort(bySeverity),
      newDrift: [...dB].filter(([k, d]) => !dA.has(k) && comparable.has(d.cluster)).map(([, d]) => driftRow(d)).sort(sortD),
      fixedDrift: [...dA].filter(([k, d]) => !dB.has(k) && comparable.has(d.cluster)).map(([, d]) => driftRow(d)).sort(sortD),
      statusChanges: statusChanges.sort((x, y) => (x.cluster < y.cluster ? -1 : 1)),
      scoreChanges: scoreChanges.sort((x, y) => x.to - x.from - (y.to - y.from) || (x.cluster < y.cluster ? -1 : 1)),
    };
  });
}

export interface FindingTimeline {
  finding: Omit<FindingRow, 'action'>;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Present in the latest run that scanned its cluster. */
  open: boolean;
  timeline: { run: string; time: string; commit: string | null; state: 'present' | 'absent' | 'not scanned'; action?: string }[];
}

export async function findingTimeline(store: Store, fp: string): Promise<FindingTimeline> {
  return store.guard('reading the finding', async () => {
    if (fp.length < 6) throw new HistoryError('usage', `give at least 6 characters of the fingerprint (got "${fp}")`);
    const matches = await store.db.selectFrom('findings').selectAll().where('fingerprint', 'like', `${fp.replace(/[%_]/g, '')}%`).limit(3).execute();
    if (!matches.length) throw new HistoryError('usage', `no finding with fingerprint "${fp}" in ${store.where}`);
    if (matches.length > 1) throw new HistoryError('usage', `fingerprint "${fp}" is ambiguous: ${matches.map((m) => m.fingerprint).join(', ')}…`);
    const f = matches[0];
    const rows = (
      await store.db
        .selectFrom('run_clusters as c')
        .innerJoin('runs as r', 'r.id', 'c.run_id')
        .select(['r.name', 'r.time', 'r.commit', 'c.status', 'c.seen'])
        .where('c.cluster', '=', f.cluster)
        .orderBy('r.time')
        .orderBy('r.id')
        .execute()
    ).map((r) => ({ ...r, action: parseSeen(r.seen).get(f.fingerprint) }));
    const timeline = rows.map((r) => ({
      run: r.name,
      time: r.time,
      commit: r.commit,
      state: (r.action ? 'present' : r.status === 'ok' ? 'absent' : 'not scanned') as 'present' | 'absent' | 'not scanned',
      ...(r.action ? { action: r.action } : {}),
    }));
    const seen = timeline.filter((t) => t.state === 'present');
    const judged = timeline.filter((t) => t.state !== 'not scanned');
    return {
      finding: { ...f, resource: describeKey(f.resource) },
      firstSeen: seen[0]?.time ?? null,
      lastSeen: seen[seen.length - 1]?.time ?? null,
      open: judged[judged.length - 1]?.state === 'present',
      timeline,
    };
  });
}

export interface ClusterTimeline {
  cluster: string;
  labels: Record<string, string>;
  timeline: { run: string; time: string; commit: string | null; status: string; error: string | null; score: number | null; objectScore: number | null; findings: number; drift: number; newFindings: number; resolvedFindings: number }[];
}

export async function clusterTimeline(store: Store, name: string): Promise<ClusterTimeline> {
  return store.guard('reading the cluster', async () => {
    const rows = await store.db
      .selectFrom('run_clusters as c')
      .innerJoin('runs as r', 'r.id', 'c.run_id')
      .select(['c.run_id', 'r.name', 'r.time', 'r.commit', 'c.labels', 'c.status', 'c.error', 'c.score', 'c.object_score', 'c.findings', 'c.drift', 'c.seen'])
      .where('c.cluster', '=', name)
      .orderBy('r.time')
      .orderBy('r.id')
      .execute();
    if (!rows.length) throw new HistoryError('usage', `no cluster "${name}" in any run of ${store.where}`);
    const byRun = new Map(rows.map((r) => [r.run_id, new Set(parseSeen(r.seen).keys())]));
    let prev: Set<string> | undefined;
    const timeline = rows.map((r) => {
      const cur = byRun.get(r.run_id) ?? new Set<string>();
      const ok = r.status === 'ok';
      const entry = {
        run: r.name,
        time: r.time,
        commit: r.commit,
        status: r.status,
        error: r.error,
        score: r.score === null ? null : Number(r.score),
        objectScore: r.object_score === null ? null : Number(r.object_score),
        findings: r.findings,
        drift: r.drift,
        newFindings: ok && prev ? [...cur].filter((f) => !prev!.has(f)).length : 0,
        resolvedFindings: ok && prev ? [...prev].filter((f) => !cur.has(f)).length : 0,
      };
      if (ok) prev = cur;
      return entry;
    });
    return { cluster: name, labels: JSON.parse(rows[rows.length - 1].labels), timeline };
  });
}

export interface FindingsWindow {
  /** Distinct findings seen on the clusters in any run of the window. */
  findings: { cluster: string; policy: string; resource: string; message: string }[];
  /** Clusters a run of the window could not judge (not `ok`), or that no run of the window recorded. */
  unknown: { cluster: string; reason: string }[];
}

/**
 * What the given clusters showed over a time window (a rollout's soak): every finding any run since `since` saw on
 * them, and the clusters the window cannot vouch for. Evidence a gate needs: one bad run in the soak counts.
 */
export async function findingsSince(store: Store, clusters: readonly string[], since: Date | undefined): Promise<FindingsWindow> {
  if (!clusters.length) return { findings: [], unknown: [] };
  return store.guard('reading findings', async () => {
    let q = store.db
      .selectFrom('run_clusters as c')
      .innerJoin('runs as r', 'r.id', 'c.run_id')
      .select(['c.cluster', 'c.status', 'c.error', 'c.seen', 'r.time'])
      .where('c.cluster', 'in', [...clusters]);
    if (since) q = q.where('r.time', '>=', since.toISOString());
    const rows = await q.orderBy('r.time').execute();
    const seen = new Map<string, string>(); // fingerprint → cluster
    const recorded = new Set<string>();
    const unknown = new Map<string, string>();
    for (const r of rows) {
      recorded.add(r.cluster);
      if (r.status !== 'ok') unknown.set(r.cluster, `a run at ${r.time} could not judge it (${r.status}${r.error ? `: ${r.error}` : ''})`);
      for (const fp of parseSeen(r.seen).keys()) seen.set(fp, r.cluster);
    }
    for (const c of clusters) if (!recorded.has(c)) unknown.set(c, `no run of the history store recorded it${since ? ` since ${since.toISOString()}` : ''}`);
    const findings: FindingsWindow['findings'] = [];
    const fps = [...seen.keys()];
    for (let i = 0; i < fps.length; i += 500) {
      const facts = await store.db.selectFrom('findings').select(['fingerprint', 'cluster', 'policy', 'resource', 'message']).where('fingerprint', 'in', fps.slice(i, i + 500)).execute();
      for (const f of facts) findings.push({ cluster: f.cluster, policy: f.policy, resource: describeKey(f.resource), message: f.message });
    }
    return { findings, unknown: [...unknown].map(([cluster, reason]) => ({ cluster, reason })) };
  });
}
