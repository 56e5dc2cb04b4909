/**
 * What `import ... from 'fleetgate'` means inside the policy sandbox: the authoring surface only (the DSL, views and
 * helpers). No loaders, no runtime, nothing that touches Node: a policy bundle is evaluated in a V8 isolate that has
 * no `process`, `require` or file system, so anything needing them would not load there anyway.
 */
export { definePolicy, defineClusterPolicy, POLICY_ID, PolicyDefinitionError, param, ParameterError } from '../../authoring/index.js';
export { PodView, POD_TEMPLATE_PATHS, POD_CONTROLLER_KINDS } from '../../authoring/index.js';
export { parseQuantity, tryParseQuantity, isQuantity, compareQuantities, QuantityError } from '../../authoring/index.js';
export { matchesSelector, matchesConditions, toJsonPath, splitDotted, getAt } from '../../authoring/index.js';
export { refOf, identityOf, groupOf, describeRef, DEFAULT_SYSTEM_NAMESPACES, SEVERITIES, ACTIONS, SEVERITY_RANK } from '../../model/index.js';
export { query } from '../engine.js';
