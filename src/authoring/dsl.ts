import type { LabelConditions } from './labels.js';
import { unknownKeys } from './strict.js';
import type { PodView } from './pod.js';
import type { Inventory } from '../model/index.js';
import type {
  Action,
  KubeObject,
  LabelSelector,
  Operation,
  PathSegments,
  Scope,
  Severity,
} from '../model/index.js';
import { ACTIONS, SEVERITIES } from '../model/index.js';

/**
 * The policy DSL. A policy is a plain, typed object; `definePolicy` checks it once when it is defined so that a
 * mistake in a policy (a bad id, a missing example) is reported where it was written, not at evaluation time.
 */

export type Params = Record<string, unknown>;

/** Which objects a policy looks at. Every given field must match. */
export interface MatchSpec<K extends readonly string[] = readonly string[]> {
  /** Kinds, optionally group-qualified for CRDs: `Pod`, `apps/Deployment`, `networking.istio.io/DestinationRule`. `Pod` also covers pod templates. */
  kinds: K;
  /** Namespace names; `*` globs allowed (`team-*`). */
  namespaces?: readonly string[];
  /** Labels of the object's namespace (needs `scope: 'namespace'` at admission to be known). */
  namespaceSelector?: LabelSelector;
  /** Labels of the object itself. */
  labels?: LabelSelector;
  /** Labels of the cluster (`region`, `type`, `cohort`, …). */
  clusterLabels?: LabelConditions;
  /** Admission operations; lint and scan evaluate as CREATE. */
  operations?: readonly Operation[];
}

export type ExcludeSpec = Partial<MatchSpec>;

export interface ClusterInfo {
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
}

export interface NamespaceInfo {
  readonly name?: string;
  /** Labels of the namespace when known (inventory, namespace cache, or the Namespace object itself). */
  readonly labels: Readonly<Record<string, string>>;
  /** Whether the labels above come from a real Namespace object (false: nothing is known about it). */
  readonly known: boolean;
}

interface CommonContext<P extends Params> {
  readonly cluster: ClusterInfo;
  readonly params: Readonly<P>;
  /** System namespaces are never tenant namespaces: the `systemNamespaces` parameter, or labelled `fleetgate.io/system: "true"`. */
  isSystemNamespace(name: string | undefined): boolean;
}

/** What an object- or namespace-scope policy sees for one object. */
export interface ObjectContext<P extends Params, Pod extends PodView | undefined = PodView | undefined> extends CommonContext<P> {
  readonly object: KubeObject;
  /** The pod spec view when the object is a Pod or a pod controller (autogen); paths are absolute. */
  readonly pod: Pod;
  readonly namespace: NamespaceInfo;
  readonly operation: Operation;
  /** The previous object on UPDATE at admission. */
  readonly oldObject?: KubeObject;
  /** The requesting user at admission (`userInfo.username`); undefined in lint and scan. */
  readonly username?: string;
  /** Value at a dotted path (`spec.mtls.mode`) or path segments, from the object's root. */
  get(path: string | PathSegments): unknown;
  /** jsonpath-plus query (script evaluation is off), each match with its absolute path segments. */
  query(jsonPath: string): { value: unknown; path: PathSegments }[];
  /**
   * Records a finding on this object at `path` (segments or dotted, from the object's root).
   * `opts.action` sets this finding's action (e.g. from a namespace's Pod Security label) unless the cluster
   * context overrides the policy's action explicitly (`--action`, fleet.yaml, webhook config), which always wins.
   */
  report(message: string, path?: string | PathSegments, opts?: ReportOptions): void;
}

export interface ReportOptions {
  action?: Action;
}

/** What a cluster-scope policy sees: the whole inventory of a cluster (scan) or of a set of files (lint). */
export interface ClusterScopeContext<P extends Params> extends CommonContext<P> {
  readonly inventory: Inventory;
  /** Records a finding on `object` (which must come from the inventory) at `path`. */
  report(object: KubeObject, message: string, path?: string | PathSegments): void;
}

/** A test case: one object, or a set of objects (an inventory) with cluster labels and parameters. */
export type Example =
  | KubeObject
  | {
      name?: string;
      objects: KubeObject[];
      clusterLabels?: Record<string, string>;
      params?: Params;
      operation?: Operation;
    };

export interface PolicySpecBase<P extends Params, K extends readonly string[]> {
  /** Stable dotted id: `<area>.<name>`. Tools and exceptions depend on it. */
  id: string;
  title: string;
  /** Longer explanation and what to change; shown in `fleetgate policies --format markdown` and SARIF help. */
  description?: string;
  area: string;
  severity: Severity;
  action: Action;
  match: MatchSpec<K>;
  exclude?: ExcludeSpec;
  /** Parameters with their defaults; `fleet.yaml` and webhook config override them by name. */
  params?: P;
  /**
   * On UPDATE, a violation the old object already had is a warning, not a denial (default true), so enforcing a
   * policy never blocks relabelling, scaling or finalizer removal of objects that were already non-compliant.
   * `false`: every violation on UPDATE is judged like on CREATE.
   */
  allowExistingViolations?: boolean;
  /**
   * Ids of policies that report the same offending field for the same reason: lint and scan then show one finding
   * per field (the strongest), naming the others (see src/dedupe.ts).
   */
  sameFindingAs?: readonly string[];
  examples: { pass: Example[]; fail: Example[] };
}

type PodFor<K extends readonly string[]> = K[number] extends 'Pod' ? PodView : PodView | undefined;

export interface ObjectPolicySpec<P extends Params, K extends readonly string[]> extends PolicySpecBase<P, K> {
  /** `object` (default): the object and cluster labels only. `namespace`: also the namespace's labels. */
  scope?: 'object' | 'namespace';
  validate(ctx: ObjectContext<P, PodFor<K>>): void;
  /**
   * The action of this object's findings when it depends on the object's context (the Pod Security pack reads
   * the namespace's `pod-security.kubernetes.io/*` labels); `null`: this object's findings are not reported;
   * `'exempt'`: not reported either, and the object is counted as exempt (lint and scan show the count).
   * Asked at the object's first finding (a compliant object never pays for it), once per object; a finding's own
   * `report(..., { action })` comes next, and an explicit override in the cluster context wins over both (a
   * `null` still drops the findings: an exempt object stays exempt).
   */
  actionFor?(ctx: ObjectContext<P, PodFor<K>>): Action | 'exempt' | null;
}

export interface ClusterPolicySpec<P extends Params, K extends readonly string[]> extends PolicySpecBase<P, K> {
  scope: 'cluster';
  validate(ctx: ClusterScopeContext<P>): void;
}

/** The runtime shape every entry point (engine, test runner, `policies` listing) works with. */
export interface Policy {
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  readonly area: string;
  readonly severity: Severity;
  readonly action: Action;
  readonly scope: Scope;
  readonly match: MatchSpec;
  readonly exclude?: ExcludeSpec;
  readonly params: Params;
  readonly allowExistingViolations?: boolean;
  readonly sameFindingAs?: readonly string[];
  readonly examples: { pass: Example[]; fail: Example[] };
  readonly validate: (ctx: never) => void;
  /** See ObjectPolicySpec.actionFor. */
  readonly actionFor?: (ctx: never) => Action | 'exempt' | null;
  /** File the policy was loaded from, for user policies. */
  readonly file?: string;
}

export const POLICY_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+$/;

export class PolicyDefinitionError extends Error {
  override name = 'PolicyDefinitionError';
}

const POLICY_KEYS = ['id', 'title', 'description', 'area', 'severity', 'action', 'scope', 'match', 'exclude', 'params', 'examples', 'validate', 'actionFor', 'allowExistingViolations', 'sameFindingAs'];
const MATCH_KEYS = ['kinds', 'namespaces', 'namespaceSelector', 'labels', 'clusterLabels', 'operations'];
const EXAMPLE_KEYS = ['name', 'objects', 'clusterLabels', 'params', 'operation', 'oldObject', 'username', 'clusters'];

/** Keys nobody reads change what a policy means without a word: they are definition errors. */
function strictKeys(spec: Record<string, unknown>, where: string): string[] {
  const problems = [...unknownKeys(spec, POLICY_KEYS, where), ...unknownKeys(spec.match, MATCH_KEYS, `${where}: match`), ...unknownKeys(spec.exclude, MATCH_KEYS, `${where}: exclude`)];
  const ex = spec.examples as Record<string, unknown> | undefined;
  problems.push(...unknownKeys(ex, ['pass', 'fail'], `${where}: examples`));
  for (const side of ['pass', 'fail'] as const) {
    const list = ex?.[side];
    if (!Array.isArray(list)) continue;
    list.forEach((e, i) => {
      // an example is either an object (it has a kind) or a case with objects
      if (e && typeof e === 'object' && !('kind' in e)) problems.push(...unknownKeys(e, EXAMPLE_KEYS, `${where}: examples.${side}[${i}]`));
    });
  }
  return problems;
}

/** Checks a policy definition once, where it is written; every define* function ends here. */
export function checkPolicy(spec: PolicySpecBase<Params, readonly string[]> & { scope?: Scope; validate: unknown; actionFor?: unknown }): Policy {
  const where = `policy ${JSON.stringify(spec?.id)}`;
  const unknown = spec && typeof spec === 'object' ? strictKeys(spec as unknown as Record<string, unknown>, where) : [];
  if (unknown.length) throw new PolicyDefinitionError(unknown.join('\n'));
  if (typeof spec?.id !== 'string' || !POLICY_ID.test(spec.id))
    throw new PolicyDefinitionError(`${where}: id must be dotted lower-case kebab words like "quota.container-resources"`);
  if (typeof spec.title !== 'string' || !spec.title) throw new PolicyDefinitionError(`${where}: title is required`);
  if (typeof spec.area !== 'string' || !spec.area) throw new PolicyDefinitionError(`${where}: area is required`);
  if (!SEVERITIES.includes(spec.severity))
    throw new PolicyDefinitionError(`${where}: severity must be one of ${SEVERITIES.join(', ')}`);
  if (!ACTIONS.includes(spec.action)) throw new PolicyDefinitionError(`${where}: action must be one of ${ACTIONS.join(', ')}`);
  if (!spec.match || !Array.isArray(spec.match.kinds) || spec.match.kinds.length === 0)
    throw new PolicyDefinitionError(`${where}: match.kinds must list at least one kind`);
  if (typeof spec.validate !== 'function') throw new PolicyDefinitionError(`${where}: validate must be a function`);
  if (spec.actionFor !== undefined && (typeof spec.actionFor !== 'function' || spec.scope === 'cluster'))
    throw new PolicyDefinitionError(`${where}: actionFor must be a function (object and namespace scope only)`);
  const ex = spec.examples;
  if (!ex || !Array.isArray(ex.pass) || !Array.isArray(ex.fail) || ex.pass.length === 0 || ex.fail.length === 0)
    throw new PolicyDefinitionError(`${where}: examples need at least one pass and one fail case`);
  const { actionFor, ...rest } = spec;
  return Object.freeze({
    ...rest,
    scope: spec.scope ?? 'object',
    params: spec.params ?? {},
    validate: spec.validate as (ctx: never) => void,
    ...(actionFor ? { actionFor: actionFor as Policy['actionFor'] } : {}),
  });
}

/** Defines an object- or namespace-scope policy (runs at admission, lint and scan). */
export function definePolicy<const K extends readonly string[], P extends Params = Params>(spec: ObjectPolicySpec<P, K>): Policy {
  return checkPolicy(spec as never);
}

/** Defines a cluster-scope policy over a whole inventory (runs in scan and in lint over a set of files). */
export function defineClusterPolicy<const K extends readonly string[], P extends Params = Params>(
  spec: ClusterPolicySpec<P, K>,
): Policy {
  return checkPolicy(spec as never);
}
