import type { ParamValues } from './params.js';
import type { KubeObject, PathSegments } from '../model/index.js';
import { checkPolicy, type MatchSpec, type Params, type Policy, type PolicySpecBase } from './dsl.js';

/**
 * The fleet scope: rules about the fleet as a whole (the federated mesh, residency across clusters, redundancy per
 * region) that no single cluster can judge. A fleet policy sees every cluster's labels and a read-only, indexed view
 * of the objects of the kinds it declares, and reports findings on a resource in a named cluster. It runs in
 * `scan` (after every cluster is read), `scan merge`, `watch` and `lint --fleet`; lint of files and serve skip it.
 */

/** Indexed, read-only lookups over one cluster's objects of the kinds a fleet policy declares. */
export interface FleetInventoryView {
  /** Objects of a kind (`Service`, `networking.istio.io/ServiceEntry`), optionally in one namespace. */
  list(kind: string, namespace?: string): readonly KubeObject[];
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined;
  /** Objects of a kind whose label `key` is set (to `value`, when given). */
  withLabel(kind: string, key: string, value?: string): readonly KubeObject[];
  /** Labels of a Namespace of this cluster, when the inventory holds it. */
  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined;
}

export interface FleetClusterView {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  /** `ok`, or why it could not be read (`unreachable`, `error`): then its inventory is empty and unknown. */
  readonly status: 'ok' | 'unreachable' | 'error';
  readonly error?: string;
  /** Config-repo layers this cluster's desired state is made of (clusters that share them share a layer set). */
  readonly layers: readonly string[];
  /** Each policy's effective action on the cluster and where it comes from (fleet.yaml, rollouts, overrides). */
  readonly actions: Readonly<Record<string, { action: string; from: string }>>;
  readonly inventory: FleetInventoryView;
}

export interface FleetScopeContext<P extends Params> {
  readonly clusters: readonly FleetClusterView[];
  cluster(name: string): FleetClusterView | undefined;
  readonly params: ParamValues<P>;
  /** Records a finding on `object` of cluster `cluster` (the cluster that holds the offending resource). */
  report(cluster: string, object: KubeObject, message: string, path?: string | PathSegments): void;
  /**
   * Says the rule could not decide something because `cluster` could not be read: listed under the rule's
   * `unknown` entry in the report — never a pass.
   */
  unknown(cluster: string, reason: string): void;
}

/** A fleet example: clusters with labels and objects (and, to test unknowns, a status). */
export interface FleetExample {
  name?: string;
  clusters: { name: string; labels?: Record<string, string>; objects?: KubeObject[]; status?: 'ok' | 'unreachable' | 'error'; layers?: string[] }[];
  params?: Params;
}

export interface FleetPolicySpec<P extends Params, K extends readonly string[]> extends Omit<PolicySpecBase<P, K>, 'examples' | 'match'> {
  scope: 'fleet';
  /** The kinds (and optionally labels) of the objects the rule needs from every cluster; only those are kept. */
  match: Pick<MatchSpec<K>, 'kinds' | 'labels'>;
  /**
   * Per kind (as `match.kinds` writes it), the dotted fields the rule reads beyond apiVersion, kind, name, namespace
   * and labels, which are always kept (`{ 'networking.istio.io/ServiceEntry': ['spec'], Service: [] }`: Services
   * only by identity). Every cluster's index keeps only these, so memory grows with what rules read; a kind not
   * listed is kept whole.
   */
  reads?: { readonly [kind in K[number]]?: readonly string[] };
  validate(ctx: FleetScopeContext<P>): void;
  examples: { pass: FleetExample[]; fail: FleetExample[] };
}

/** Defines a fleet-scope policy over every cluster's inventory (scan, scan merge, watch, lint --fleet). */
export function defineFleetPolicy<const K extends readonly string[], P extends Params = Params>(spec: FleetPolicySpec<P, K>): Policy {
  for (const [kind, list] of Object.entries(spec.examples ?? {}))
    for (const e of (list as unknown[]) ?? [])
      if (!e || typeof e !== 'object' || !Array.isArray((e as FleetExample).clusters))
        throw new Error(`policy "${spec.id}": fleet examples are { clusters: [...] } (a ${kind} example is not)`);
  return checkPolicy(spec as never);
}

export function isFleetExample(e: unknown): e is FleetExample {
  return !!e && typeof e === 'object' && Array.isArray((e as FleetExample).clusters);
}
