import { chunks } from './bulk.js';
import { covers, type FindingRow } from './diff.js';
import { describeKey } from './queries.js';
import { HistoryError, type Store } from './store.js';

/**
 * The timeline of one finding (its spans against its cluster's runs), of one cluster (its runs, and per run the
 * spans that opened and closed in it), and what a window of runs saw on some clusters (a rollout's soak).
 */

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
    const matches = await store.db
      .selectFrom('findings')
      .select(['key', 'fingerprint', 'cluster', 'policy', 'severity', 'resource', 'path', 'message'])
      .where('fingerprint', 'like', `${fp.replace(/[%_]/g, '')}%`)
      .limit(3)
      .execute();
    if (!matches.length) throw new HistoryError('usage', `no finding with fingerprint "${fp}" in ${store.where}`);
    if (matches.length > 1) throw new HistoryError('usage', `fingerprint "${fp}" is ambiguous: ${matches.map((m) => m.fingerprint).join(', ')}…`);
    const { key, ...f } = matches[0];
    const spans = await store.db.selectFrom('finding_spans').select(['action', 'start_run', 'end_run']).where('key', '=', key).execute();
    const rows = await store.db
      .selectFrom('run_clusters as c')
      .innerJoin('runs as r', 'r.id', 'c.run_id')
      .select(['r.id', 'r.name', 'r.time', 'r.commit', 'c.status'])
      .where('c.cluster', '=', f.cluster)
      .orderBy('r.time')
      .orderBy('r.id')
      .execute();
    const timeline = rows.map((r) => {
      const action = r.status === 'ok' ? spans.find((s) => covers(s, r.id))?.action : undefined;
      const state: 'present' | 'absent' | 'not scanned' = action ? 'present' : r.status === 'ok' ? 'absent' : 'not scanned';
      return { run: r.name, time: r.time, commit: r.commit, state, ...(action ? { action } : {}) };
    });
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

/** Per run: the fingerprints whose span opened in it, and those whose span closed in it. */
function boundaries(spans: { key: number; start_run: number; end_run: number | null }[]): Map<number, { opened: Set<number>; closed: Set<number> }> {
  const at = new Map<number, { opened: Set<number>; closed: Set<number> }>();
  const of = (id: number) => at.get(id) ?? at.set(id, { opened: new Set(), closed: new Set() }).get(id)!;
  for (const s of spans) {
    of(s.start_run).opened.add(Number(s.key));
    if (s.end_run !== null) of(s.end_run).closed.add(Number(s.key));
  }
  return at;
}

export async function clusterTimeline(store: Store, name: string): Promise<ClusterTimeline> {
  return store.guard('reading the cluster', async () => {
    const rows = await store.db
      .selectFrom('run_clusters as c')
      .innerJoin('runs as r', 'r.id', 'c.run_id')
      .select(['c.run_id', 'r.name', 'r.time', 'r.commit', 'c.labels', 'c.status', 'c.error', 'c.score', 'c.object_score', 'c.findings', 'c.drift'])
      .where('c.cluster', '=', name)
      .orderBy('r.time')
      .orderBy('r.id')
      .execute();
    if (!rows.length) throw new HistoryError('usage', `no cluster "${name}" in any run of ${store.where}`);
    const spans = await store.db.selectFrom('finding_spans').select(['key', 'start_run', 'end_run']).where('cluster', '=', name).execute();
    // Spans move only in runs that judged the cluster: what changed since its previous judged run changed in this one.
    // A finding whose span closed and reopened in the same run (its action changed) is neither new nor resolved.
    const at = boundaries(spans);
    let judgedBefore = false;
    const timeline = rows.map((r) => {
      const ok = r.status === 'ok';
      const b = ok && judgedBefore ? at.get(r.run_id) : undefined;
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
        newFindings: b ? [...b.opened].filter((f) => !b.closed.has(f)).length : 0,
        resolvedFindings: b ? [...b.closed].filter((f) => !b.opened.has(f)).length : 0,
      };
      if (ok) judgedBefore = true;
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
    let q = store.db.selectFrom('run_clusters as c').innerJoin('runs as r', 'r.id', 'c.run_id').select(['c.run_id', 'c.cluster', 'c.status', 'c.error', 'r.time']).where('c.cluster', 'in', [...clusters]);
    if (since) q = q.where('r.time', '>=', since.toISOString());
    const rows = await q.orderBy('r.time').execute();
    const judged = new Map<string, number[]>(); // cluster → the window's runs that judged it
    const unknown = new Map<string, string>();
    for (const r of rows) {
      if (!judged.has(r.cluster)) judged.set(r.cluster, []);
      if (r.status === 'ok') judged.get(r.cluster)!.push(r.run_id);
      else unknown.set(r.cluster, `a run at ${r.time} could not judge it (${r.status}${r.error ? `: ${r.error}` : ''})`);
    }
    for (const c of clusters) if (!judged.has(c)) unknown.set(c, `no run of the history store recorded it${since ? ` since ${since.toISOString()}` : ''}`);
    const first = rows.reduce((m, r) => Math.min(m, r.run_id), Number.MAX_SAFE_INTEGER); // (a window can hold many runs: no spread)
    const seen = new Set<number>();
    for (const part of chunks([...judged.keys()])) {
      const spans = await store.db
        .selectFrom('finding_spans')
        .select(['key', 'cluster', 'start_run', 'end_run'])
        .where('cluster', 'in', part)
        .where((eb) => eb.or([eb('end_run', 'is', null), eb('end_run', '>', first)]))
        .execute();
      for (const s of spans) if (judged.get(s.cluster)!.some((id) => covers(s, id))) seen.add(Number(s.key));
    }
    const findings: FindingsWindow['findings'] = [];
    for (const part of chunks([...seen])) {
      const facts = await store.db.selectFrom('findings').select(['cluster', 'policy', 'resource', 'message']).where('key', 'in', part).execute();
      for (const f of facts) findings.push({ cluster: f.cluster, policy: f.policy, resource: describeKey(f.resource), message: f.message });
    }
    return { findings, unknown: [...unknown].map(([cluster, reason]) => ({ cluster, reason })) };
  });
}
