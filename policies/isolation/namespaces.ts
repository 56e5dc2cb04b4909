import { groupOf } from '../../src/index.js';
import type { ClusterScopeContext, Inventory, KubeObject, LabelSelector, Params } from '../../src/index.js';

/**
 * Helpers shared by the namespace rules of every pack (isolation, quota, mesh, gdpr). They use only the DSL's
 * public surface. A namespace rule judges the Namespace objects the inventory holds and puts its finding on them.
 */

/** Tenant namespaces of an inventory: core-group Namespace objects that are not system namespaces nor being deleted. */
export function tenantNamespaces(ctx: ClusterScopeContext<Params>): KubeObject[] {
  return ctx.inventory.namespaces().filter((ns) => {
    const name = ns.metadata?.name;
    if (typeof name !== 'string' || groupOf(ns.apiVersion) !== '') return false;
    if (ns.metadata?.deletionTimestamp) return false;
    return !ctx.isSystemNamespace(name);
  });
}

/** Objects of `group/kind` in a namespace (any version of the group). */
export function objectsIn(inventory: Inventory, group: string, kind: string, namespace: string): KubeObject[] {
  return inventory.ofKind(kind, namespace).filter((o) => groupOf(o.apiVersion) === group);
}

/** Whether a label selector is empty (selects every pod of its namespace); a missing selector counts as empty. */
export function isEmptySelector(sel: unknown): boolean {
  if (sel === undefined || sel === null) return true;
  if (typeof sel !== 'object' || Array.isArray(sel)) return false;
  const s = sel as LabelSelector;
  const labels = s.matchLabels && typeof s.matchLabels === 'object' ? Object.keys(s.matchLabels) : [];
  const exprs = Array.isArray(s.matchExpressions) ? s.matchExpressions : [];
  return labels.length === 0 && exprs.length === 0;
}

/** A core v1 Namespace for examples (the packs' shared builder). */
export { namespace } from '../_shared/examples.js';

/** Where a namespace rule points: the namespace's name (so file:line lands on the Namespace document). */
export const NAMESPACE_NAME_PATH = ['metadata', 'name'] as const;

/** The DSL's own object test, under the name the packs use. */
export { isPlainObject as isObject } from '../../src/index.js';
