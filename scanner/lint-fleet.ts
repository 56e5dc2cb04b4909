import { relative, resolve, sep } from 'node:path';
import { identityOf, refOf, type Action, type Finding, type KubeObject, type PathSegments, type Policy, type Resource, type SourceLocation } from '../src/index.js';
import { createEvaluator, dedupeFindings, rolloutInvalidFinding, rolloutsAmong, type FleetClusterInput, type FleetRuleResult } from '../src/engine/index.js';
import { DesiredState, layersFor, type LayerObjects } from './desired.js';
import type { Fleet, FleetCluster, FleetError } from './fleet.js';
import { fleetActionsOf, fleetIndexOf, runFleetRules } from './fleet-rules.js';
import { clusterContextOf } from './scan.js';

/**
 * `lint --fleet`: the config repo judged before it merges. Every cluster's desired state — the layers its labels
 * choose, merged as the scan renders it (DesiredState) — is judged by the object, namespace and cluster policies
 * with that cluster's context (fleet.yaml's labels, parameters, actions, the repo's rollouts: clusterContextOf, as in
 * the scan), then the fleet rules run over every cluster's desired state (runFleetRules, as in the scan). Findings
 * keep file:line:column in the layer that set the offending field.
 */

export interface FleetLintOptions {
  policies: readonly Policy[];
  /** `--action` and `--param`, over the fleet file's (as in the scan). */
  actions?: Record<string, Action>;
  parameters?: Record<string, unknown>;
  /** Budget of users' policies (the sandbox). */
  timeoutMs?: number;
  now?: Date;
}

export interface FleetLintResult {
  /** Every finding, each with the cluster it is about. */
  findings: Finding[];
  /** Layers that could not be read (their clusters are still linted with the rest; fleet rules say unknown). */
  errors: FleetError[];
  rules: FleetRuleResult[];
  clusters: number;
  /** Objects judged, summed over clusters; manifest files the layers hold. */
  objects: number;
  files: number;
  waived: number;
  exempt: number;
}

/** Shows files relative to the working directory, as lint of paths does (SARIF re-roots them itself). */
function shown(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** Whether `path` exists in `object` (the layer that sets a field is the one to point at). */
function has(object: unknown, path: PathSegments): boolean {
  let node = object;
  for (const seg of path) {
    if (node === null || typeof node !== 'object' || !(seg in (node as object))) return false;
    node = (node as Record<string | number, unknown>)[seg];
  }
  return true;
}

/**
 * The desired state of one layer set as lint resources: each merged object located in the last layer that sets the
 * offending field (an overlay's patch), else where it was first declared (the base).
 */
function resourcesOf(desired: Map<string, KubeObject>, chosen: readonly LayerObjects[]): Resource[] {
  const declared = new Map<string, { object: KubeObject; locate: NonNullable<Resource['locate']> }[]>();
  for (const l of chosen)
    for (const o of l.objects) {
      const locate = l.locate?.get(o);
      if (!locate) continue; // rendered by kustomize: no positions
      const id = identityOf(o);
      (declared.get(id) ?? declared.set(id, []).get(id)!).push({ object: o, locate });
    }
  return [...desired].map(([id, object]) => {
    const decl = declared.get(id);
    if (!decl?.length) return { object };
    const locate = (path: PathSegments): SourceLocation | undefined => {
      // The whole object: where it is declared first; a field: the last layer that sets it.
      const where = (path.length && [...decl].reverse().find((d) => has(d.object, path))) || decl[0];
      const loc = where.locate(path);
      return loc && { ...loc, file: shown(loc.file) };
    };
    const file = decl[0].locate([])?.file;
    return { object, ...(file ? { file: shown(file) } : {}), locate };
  });
}

/** Which clusters a broken layer leaves incomplete: the layer an error's file is under (the deepest one). */
function brokenLayers(errors: readonly FleetError[], layers: readonly LayerObjects[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of errors) {
    const file = resolve(e.file);
    const owner = layers
      .filter((l) => file === resolve(l.layer.dir) || file.startsWith(resolve(l.layer.dir) + sep))
      .sort((a, b) => b.layer.dir.length - a.layer.dir.length)[0];
    if (owner && !out.has(owner.layer.path)) out.set(owner.layer.path, e.message);
  }
  return out;
}

const refKey = (o: KubeObject) => {
  const r = refOf(o);
  return `${r.apiVersion}\u0000${r.kind}\u0000${r.namespace ?? ''}\u0000${r.name}`;
};

/** Lints the desired state of every cluster of `fleet` from its loaded layers. */
export async function lintFleet(fleet: Fleet, layers: { layers: LayerObjects[]; errors: FleetError[] }, opts: FleetLintOptions): Promise<FleetLintResult> {
  const desired = new DesiredState(layers.layers);
  const broken = brokenLayers(layers.errors, layers.layers);
  // Clusters that share a layer set share its resources (and their source positions).
  const byLayerSet = new Map<string, { resources: Resource[]; byRef: Map<string, Resource> }>();
  const setOf = (cluster: FleetCluster) => {
    const chosen = layersFor(cluster, layers.layers);
    const key = chosen.map((l) => l.layer.path).join('\u0000');
    let set = byLayerSet.get(key);
    if (!set) {
      const resources = resourcesOf(desired.for(cluster), chosen);
      byLayerSet.set(key, (set = { resources, byRef: new Map(resources.map((r) => [refKey(r.object), r])) }));
    }
    return set;
  };
  const evaluator = await createEvaluator(opts.policies, {}, { sandbox: { timeoutMs: opts.timeoutMs ?? 10_000 } });
  const findings: Finding[] = [];
  const members: FleetClusterInput[] = [];
  const setByCluster = new Map<string, ReturnType<typeof setOf>>();
  let objects = 0;
  let waived = 0;
  let exempt = 0;
  try {
    for (const cluster of fleet.clusters) {
      const set = setOf(cluster);
      setByCluster.set(cluster.name, set);
      const own = set.resources.map((r) => r.object);
      const { rollouts, invalid } = rolloutsAmong(own);
      const ctx = clusterContextOf(fleet, cluster, opts.actions, { rollouts, policies: opts.policies }, opts.parameters);
      const evaluation = await evaluator.forCluster(ctx).evaluate(set.resources, { now: opts.now });
      const invalidFindings = invalid.map((i) => rolloutInvalidFinding(i.object, i.message, set.byRef.get(refKey(i.object))?.locate?.([])));
      for (const f of dedupeFindings([...invalidFindings, ...evaluation.findings], opts.policies)) findings.push({ ...f, cluster: cluster.name });
      objects += evaluation.objects;
      waived += evaluation.waived;
      exempt += evaluation.exempt ?? 0;
      const names = layersFor(cluster, layers.layers).map((l) => l.layer.path);
      const missing = names.filter((n) => broken.has(n));
      members.push({
        name: cluster.name,
        labels: cluster.labels,
        // A layer that could not be read leaves this cluster's desired state incomplete: fleet rules say unknown.
        status: missing.length ? 'error' : 'ok',
        ...(missing.length ? { error: `layer ${missing.map((n) => `"${n}"`).join(', ')} could not be read: ${broken.get(missing[0])}` } : {}),
        layers: names,
        actions: fleetActionsOf(opts.policies, ctx, cluster.actions),
        objects: fleetIndexOf(own, opts.policies) ?? [],
      });
    }
  } finally {
    await evaluator.close();
  }
  // Fleet findings point at the manifest line too: the resource is looked up in its cluster's desired state.
  const locate = (cluster: string, object: KubeObject, path: PathSegments) => setByCluster.get(cluster)?.byRef.get(refKey(object))?.locate?.(path);
  const { result, rules } = runFleetRules(opts.policies, members, { parameters: fleet.parameters, actions: fleet.actions }, locate);
  findings.push(...result.findings);
  const files = new Set<string>();
  for (const l of layers.layers) for (const loc of l.locate?.values() ?? []) files.add(loc([])?.file ?? '');
  files.delete('');
  return { findings, errors: layers.errors, rules, clusters: fleet.clusters.length, objects, files: files.size, waived, exempt };
}
