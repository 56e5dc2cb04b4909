import type { ClusterContext } from './context.js';
import { resolveAction, resolveParams } from './context.js';
import type { NamespaceInfo, Params, Policy } from '../authoring/index.js';
import { matchesSelector } from '../authoring/index.js';
import { matchesGlob, type Action, type Operation } from '../model/index.js';

/**
 * A policy bound to one cluster context, as the engine runs it: parameters merged, action resolved, kinds parsed and
 * match/exclude compiled into tests, all once per cluster rather than once per object.
 */
export interface BoundPolicy {
  policy: Policy;
  params: Params;
  action: Action;
  /** Whether the cluster context set this policy's action explicitly (then a policy's per-finding action yields to it). */
  actionOverridden: boolean;
  kinds: { group?: string; kind: string }[];
  operations: readonly Operation[];
  /** Position among the object- and namespace-scope policies (where its checks are counted). */
  index: number;
  /** `match` beyond kinds and cluster labels, compiled; undefined when there is nothing more to test. */
  matchTest?: ObjectTest;
  /** `exclude` compiled; undefined when the policy excludes nothing at object level. */
  excludeTest?: ObjectTest;
}

/** What a compiled match/exclude condition looks at: the object's namespace, labels, kind and group. */
export type ObjectTest = (namespace: NamespaceInfo, objLabels: Record<string, string>, kind: string, group: string) => boolean;

const DEFAULT_OPERATIONS: readonly Operation[] = ['CREATE', 'UPDATE'];

/** The policy as it runs in this cluster (its `index` is set by the engine that holds it). */
export function bindPolicy(policy: Policy, cluster: ClusterContext): BoundPolicy {
  return {
    policy,
    params: resolveParams(policy, cluster.parameters),
    action: resolveAction(policy, cluster.actions),
    actionOverridden: resolveAction(policy, cluster.actions) !== policy.action || hasActionFor(policy.id, cluster.actions),
    kinds: parseKinds(policy.match.kinds),
    operations: policy.match.operations ?? DEFAULT_OPERATIONS,
    index: -1,
    matchTest: compileTest(policy.match, false),
    excludeTest: compileTest(policy.exclude, true),
  };
}

function hasActionFor(id: string, actions: Record<string, Action> = {}): boolean {
  return Object.keys(actions).some((pattern) => matchesGlob(id, pattern));
}

function parseKinds(kinds: readonly string[]): { group?: string; kind: string }[] {
  return kinds.map((k) => {
    const slash = k.lastIndexOf('/');
    return slash < 0 ? { kind: k } : { group: k.slice(0, slash), kind: k.slice(slash + 1) };
  });
}

/** `*` matches every kind (a rule such as practices.required-labels that any object can break). */
export const kindMatches = (kinds: readonly { group?: string; kind: string }[], kind: string, group: string): boolean =>
  kinds.some((k) => (k.kind === kind || k.kind === '*') && (k.group === undefined || k.group === group));

/**
 * Compiles a match (every given field must hold) or an exclude (any given field that holds excludes) into one test,
 * so the per-object work is only the tests a policy actually declares.
 */
function compileTest(m: Partial<Policy['match']> | undefined, isExclude: boolean): ObjectTest | undefined {
  if (!m) return undefined;
  const tests: ObjectTest[] = [];
  const { namespaces, namespaceSelector, labels } = m;
  if (namespaces) tests.push((ns) => ns.name !== undefined && namespaces.some((g) => matchesGlob(ns.name!, g)));
  if (namespaceSelector) tests.push((ns) => ns.name !== undefined && matchesSelector(ns.labels, namespaceSelector));
  if (labels) tests.push((_ns, objLabels) => matchesSelector(objLabels, labels));
  if (isExclude && m.kinds) {
    const kinds = parseKinds(m.kinds);
    tests.push((_ns, _labels, kind, group) => kindMatches(kinds, kind, group));
  }
  if (!tests.length) return undefined;
  if (tests.length === 1) return tests[0];
  return isExclude ? (...a) => tests.some((t) => t(...a)) : (...a) => tests.every((t) => t(...a));
}
