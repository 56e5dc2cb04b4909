/**
 * The model layer: the vocabulary every other layer speaks — Kubernetes objects, findings, resource references,
 * the inventory of one cluster's objects, glob matching. It imports nothing of fleetgate's own.
 */
export * from './types.js';
export { groupOf, refOf, nameOf, identityOf, describeRef, labelsOf, isPlainObject, DEFAULT_SYSTEM_NAMESPACES, SYSTEM_NAMESPACE_LABEL } from './resource.js';
export { globToRegExp, matchesGlob } from './glob.js';
export { Inventory } from './inventory.js';
export { pushAll } from './arrays.js';
export type { Resource } from './inventory.js';
