import { extname, join, relative, resolve, sep } from 'node:path';
import { loadText, matchesConditions, refOf } from '../src/index.js';
import type { Fleet, FleetLayer } from '../scanner/fleet.js';
import { commitInfo, contains, fileAt } from './git.js';
import { kustomizeChanges } from './kustomize.js';
import { describeKey, listRuns, type RunInfo } from './queries.js';
import { resourceKey } from './record.js';
import type { Store } from './store.js';

/**
 * Convergence of one config commit: for every object in the files the commit changed, on how many clusters it is in
 * sync, which clusters still differ and why (the drift entry, or the cluster's error), and since when — judged on
 * the runs whose config commit contains the change (the commit or a descendant of it).
 *
 * Which clusters should have an object: those whose labels match the `when` of the layer holding the file (the
 * fleet file's layers; a file in no layer is listed as ignored). Cluster labels come from the latest such run.
 * In a kustomize folder the objects are those whose rendering the commit changed (kustomize.ts).
 */

export interface ClusterState {
  cluster: string;
  state: 'in-sync' | 'missing' | 'modified' | 'unmanaged' | 'unreachable' | 'error' | 'not scanned';
  reason?: string;
  diffs?: { path: string; desired: unknown; live: unknown }[];
  /** Time of the first run of the current unbroken streak in this state (since the commit). */
  since?: string;
}

export interface ObjectConvergence {
  resource: string;
  file: string;
  layer: string;
  clusters: number;
  inSync: number;
  differing: ClusterState[];
  synced: ClusterState[];
}

export interface Convergence {
  commit: { sha: string; time: string; subject: string };
  /** The latest run that contains the commit (null: none yet). */
  run: { run: string; time: string; commit: string | null } | null;
  runs: number;
  converged: boolean;
  graceMs: number;
  /** Not converged and the commit is older than the grace period. */
  overdue: boolean;
  objects: ObjectConvergence[];
  removed: { file: string; resource: string }[];
  ignoredFiles: string[];
  /** What could not be judged (a kustomization that did not render): those objects are missing from `objects`. */
  warnings: string[];
}

const MANIFEST = new Set(['.yaml', '.yml', '.json']);

function layerOf(file: string, layers: readonly FleetLayer[]): FleetLayer | undefined {
  let best: FleetLayer | undefined;
  for (const l of layers) {
    const dir = resolve(l.dir);
    if ((file.startsWith(dir + sep) || file === dir) && (!best || dir.length > resolve(best.dir).length)) best = l;
  }
  return best;
}

async function objectsAt(top: string, sha: string, path: string): Promise<string[]> {
  const loaded = loadText(await fileAt(top, sha, path), path, { positions: false });
  return loaded.resources.map((r) => resourceKey(refOf(r.object)));
}

type Wanted = { key: string; file: string; layer: FleetLayer };
type CommitInfo = Awaited<ReturnType<typeof commitInfo>>;

/** The objects the commit changed (files of a layer, and kustomize renders), the removed ones, the ignored files. */
async function changedObjects(fleet: Fleet, info: CommitInfo): Promise<{ wanted: Wanted[]; removed: Convergence['removed']; ignoredFiles: string[]; warnings: string[] }> {
  const wanted: Wanted[] = [];
  const removed: Convergence['removed'] = [];
  const ignoredFiles: string[] = [];
  // Kustomize layers: the objects whose render the commit changed (their files are not read one by one).
  const kustomized = await kustomizeChanges(fleet, info);
  for (const k of kustomized.changed) wanted.push(k);
  removed.push(...kustomized.removed);
  const inRoot = (p: string) => kustomized.roots.some((r) => r === '' || p === r || p.startsWith(r + '/'));
  for (const f of info.files) {
    if (inRoot(f.path)) continue;
    const abs = join(info.top, f.path);
    const layer = MANIFEST.has(extname(f.path).toLowerCase()) ? layerOf(abs, fleet.layers) : undefined;
    if (!layer) {
      ignoredFiles.push(f.path);
      continue;
    }
    if (f.deleted) {
      // What the file held before the commit is gone from the desired state; it is listed, not judged.
      for (const key of await objectsAt(info.top, `${info.sha}^`, f.path).catch(() => [])) removed.push({ file: f.path, resource: describeKey(key) });
      continue;
    }
    for (const key of await objectsAt(info.top, info.sha, f.path)) wanted.push({ key, file: relative(info.top, abs), layer });
  }
  return { wanted, removed, ignoredFiles, warnings: kustomized.errors.map((e) => `${e.file}: ${e.message}`) };
}

/** The runs whose config commit contains `sha` (the commit or a descendant), oldest first. */
async function runsWith(store: Store, fleet: Fleet, sha: string): Promise<RunInfo[]> {
  const verdict = new Map<string, boolean>();
  const after: RunInfo[] = [];
  for (const r of await listRuns(store)) {
    if (!r.commit) continue;
    if (!verdict.has(r.commit)) verdict.set(r.commit, await contains(fleet.repo, r.commit, sha));
    if (verdict.get(r.commit)) after.push(r);
  }
  return after;
}

/** The clusters of those runs and the drift of the wanted objects in them; `stateIn` says one cluster's state in one run. */
async function statesOf(store: Store, after: RunInfo[], keys: string[]) {
  const ids = after.map((r) => r.id);
  const clusterRows = ids.length
    ? await store.guard('reading clusters', () => store.db.selectFrom('run_clusters').select(['run_id', 'cluster', 'labels', 'status', 'error']).where('run_id', 'in', ids).execute())
    : [];
  const driftRows =
    ids.length && keys.length
      ? await store.guard('reading drift', () => store.db.selectFrom('run_drift').select(['run_id', 'cluster', 'resource', 'state', 'diffs']).where('run_id', 'in', ids).where('resource', 'in', keys).execute())
      : [];
  const drift = new Map(driftRows.map((d) => [`${d.run_id}\n${d.cluster}\n${d.resource}`, d]));
  const status = new Map(clusterRows.map((c) => [`${c.run_id}\n${c.cluster}`, c]));
  const stateIn = (run: RunInfo, cluster: string, key: string): ClusterState | undefined => {
    const c = status.get(`${run.id}\n${cluster}`);
    if (!c) return undefined;
    if (c.status !== 'ok') return { cluster, state: c.status as 'error', reason: c.error ?? c.status };
    const d = drift.get(`${run.id}\n${cluster}\n${key}`);
    if (!d) return { cluster, state: 'in-sync' };
    const diffs = JSON.parse(d.diffs) as ClusterState['diffs'];
    const reason = d.state === 'missing' ? 'declared in the config repo but not live' : d.state === 'modified' ? diffs!.map((x) => `${x.path} desired ${JSON.stringify(x.desired)}, live ${JSON.stringify(x.live)}`).join('; ') : d.state;
    return { cluster, state: d.state as 'modified', reason, ...(diffs!.length ? { diffs } : {}) };
  };
  return { clusterRows, stateIn };
}

export async function convergence(store: Store, fleet: Fleet, rev: string, opts: { graceMs: number; now?: Date }): Promise<Convergence> {
  const info = await commitInfo(fleet.repo, rev);
  const { wanted, removed, ignoredFiles, warnings } = await changedObjects(fleet, info);
  const after = await runsWith(store, fleet, info.sha);
  const latest = after[after.length - 1];
  const { clusterRows, stateIn } = await statesOf(store, after, [...new Set(wanted.map((w) => w.key))]);
  const latestClusters = latest ? clusterRows.filter((c) => c.run_id === latest.id) : [];
  const objects: ObjectConvergence[] = wanted.map((w) => {
    const targets = latestClusters.filter((c) => matchesConditions(JSON.parse(c.labels), w.layer.when));
    const states = targets.map((c) => {
      const now = stateIn(latest!, c.cluster, w.key)!;
      let since = latest!.time;
      for (let i = after.length - 2; i >= 0; i--) {
        const s = stateIn(after[i], c.cluster, w.key);
        if (!s || s.state !== now.state) break;
        since = after[i].time;
      }
      return { ...now, since };
    });
    return {
      resource: describeKey(w.key),
      file: w.file,
      layer: w.layer.path,
      clusters: targets.length,
      inSync: states.filter((s) => s.state === 'in-sync').length,
      differing: states.filter((s) => s.state !== 'in-sync'),
      synced: states.filter((s) => s.state === 'in-sync'),
    };
  });
  const converged = !!latest && objects.every((o) => o.differing.length === 0);
  const now = opts.now ?? new Date();
  return {
    commit: { sha: info.sha, time: info.time.toISOString(), subject: info.subject },
    run: latest ? { run: latest.run, time: latest.time, commit: latest.commit } : null,
    runs: after.length,
    converged,
    graceMs: opts.graceMs,
    overdue: !converged && now.getTime() - info.time.getTime() > opts.graceMs,
    objects,
    removed,
    ignoredFiles,
    warnings,
  };
}
