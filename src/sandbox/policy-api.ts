/**
 * What `import ... from 'fleetgate'` means inside the policy sandbox: the authoring surface only (the DSL, views and
 * helpers). No loaders, no runtime, nothing that touches Node: a policy bundle is evaluated in a V8 isolate that has
 * no `process`, `require` or file system, so anything needing them would not load there anyway.
 */
export { definePolicy, defineClusterPolicy, POLICY_ID, PolicyDefinitionError } from '../dsl.js';
export { query } from '../engine.js';
export { PodView, POD_TEMPLATE_PATHS, POD_CONTROLLER_KINDS } from '../pod.js';
export { parseQuantity, tryParseQuantity, isQuantity, compareQuantities, QuantityError } from '../quantity.js';
export { matchesSelector, matchesConditions } from '../labels.js';
export { toJsonPath, splitDotted, getAt } from '../path.js';
export { refOf, identityOf, groupOf, describeRef, DEFAULT_SYSTEM_NAMESPACES } from '../resource.js';
export * from '../types.js';
