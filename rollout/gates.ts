import type { Policy } from '../src/authoring/index.js';
import { PolicyRuntime, rolloutNames, type PolicyRollout } from '../src/engine/index.js';
import { loadPaths } from '../src/loading/index.js';
import { identityOf, type Finding, type Resource, type SourceLocation } from '../src/model/index.js';
import { DesiredState, type LayerObjects } from '../scanner/desired.js';
import type { Fleet, FleetCluster } from '../scanner/fleet.js';
import { clusterContextOf, scanCluster, type ClusterSource } from '../scanner/scan.js';

/**
 * The evidence a rollout step is gated on:
 * (a) findings of the rollout's policies on the clusters the current stage has reached — over the soak window from
 *     the history store when one is given, else from reading those clusters now;
 * (b) violations of those policies in the desired state the config repo renders for the clusters the step would
 *     reach, so enforcement never starts where the repo itself would be denied at sync.
 */

export interface Blocker {
  kind: 'finding' | 'desired-violation' | 'unknown';
  cluster: string;
  policy?: string;
  resource?: string;
  message: string;
  /** Config-repo file:line for desired-state violations. */
  source?: SourceLocation;
  /** For a desired violation shared by several clusters (one layer set): all of them. */
  clusters?: string[];
}

/** Findings of the rollout's policies on clusters since a time: the history store's answer. */
export type FindingsHistory = (clusters: readonly string[], policies: (id: string) => boolean, since: Date | undefined) => Promise<Blocker[]>;

function describe(f: Finding): string {
  const r = f.resource;
  return `${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}`;
}

/** (a) from the clusters' current state, read the way `scan` reads them. */
export async function currentFindings(
  fleet: Fleet,
  clusters: readonly FleetCluster[],
  rollout: PolicyRollout,
  policies: readonly Policy[],
  desired: DesiredState,
  source?: ClusterSource,
): Promise<Blocker[]> {
  const named = policies.filter((p) => rolloutNames(rollout, p.id));
  if (!clusters.length || !named.length) return [];
  const runtime = await PolicyRuntime.create(named, {}, { timeoutMs: 30_000 });
  const out: Blocker[] = [];
  try {
    for (const cluster of clusters) {
      const report = await scanCluster(fleet, cluster, runtime, { policies: named, desired, source });
      if (report.status !== 'ok') {
        out.push({ kind: 'unknown', cluster: cluster.name, message: `cluster could not be read (${report.status}): ${report.error ?? 'no reason given'}` });
        continue;
      }
      for (const f of report.findings) {
        if (!rolloutNames(rollout, f.policy)) continue;
        out.push({ kind: 'finding', cluster: cluster.name, policy: f.policy, resource: describe(f), message: f.message });
      }
    }
  } finally {
    await runtime.close();
  }
  return out;
}

/** Where each config-repo object was declared, so a desired-state violation points at the file to fix. */
export class RepoPositions {
  private constructor(private readonly byIdentity: Map<string, Resource>) {}

  static async load(layers: readonly LayerObjects[]): Promise<RepoPositions> {
    const map = new Map<string, Resource>();
    const loaded = await loadPaths(layers.map((l) => l.layer.dir));
    for (const r of loaded.resources) map.set(identityOf(r.object), r); // a later layer's declaration wins, as in the merge
    return new RepoPositions(map);
  }

  all(): IterableIterator<Resource> {
    return this.byIdentity.values();
  }

  locate(f: Finding, identity: string): SourceLocation | undefined {
    const r = this.byIdentity.get(identity);
    if (!r?.locate) return undefined;
    const segments = f.path.replace(/^\$\.?/, '').split(/\.|\[(\d+)\]/).filter((s) => s !== undefined && s !== '').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
    return r.locate(segments) ?? r.locate([]);
  }
}

/** (b) the policies on each step cluster's desired state, with that cluster's labels and parameters. */
export async function desiredViolations(
  fleet: Fleet,
  clusters: readonly FleetCluster[],
  rollout: PolicyRollout,
  policies: readonly Policy[],
  desired: DesiredState,
  positions: RepoPositions,
): Promise<Blocker[]> {
  const named = policies.filter((p) => rolloutNames(rollout, p.id));
  if (!clusters.length || !named.length) return [];
  const runtime = await PolicyRuntime.create(named, {}, { timeoutMs: 30_000 });
  const shared = new Map<string, Blocker>();
  try {
    for (const cluster of clusters) {
      const objects = [...desired.for(cluster).values()];
      const ids = new Map(objects.map((o) => [o, identityOf(o)]));
      const evaluation = await runtime.forCluster(clusterContextOf(fleet, cluster)).evaluate(objects.map((object) => ({ object })));
      for (const f of evaluation.findings) {
        if (!rolloutNames(rollout, f.policy)) continue;
        const object = objects.find((o) => o.kind === f.resource.kind && o.metadata?.name === f.resource.name && (o.metadata?.namespace ?? undefined) === f.resource.namespace);
        const source = object ? positions.locate(f, ids.get(object)!) : undefined;
        const key = `${f.policy}\u0000${describe(f)}\u0000${f.path}\u0000${f.message}`;
        const seen = shared.get(key);
        if (seen) seen.clusters!.push(cluster.name);
        else shared.set(key, { kind: 'desired-violation', cluster: cluster.name, clusters: [cluster.name], policy: f.policy, resource: describe(f), message: f.message, ...(source ? { source } : {}) });
      }
    }
  } finally {
    await runtime.close();
  }
  return [...shared.values()];
}
