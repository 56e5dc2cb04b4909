/**
 * fleetgate's public surface: what policy authors (built-in packs and users' .ts files) import as `fleetgate`.
 * Loading policy files (src/policy-loader.ts) is for entry points and stays out of here: policies import this
 * module, so it must not import them back.
 */
export { definePolicy, defineClusterPolicy, POLICY_ID, PolicyDefinitionError } from './dsl.js';
export type {
  ClusterInfo,
  ClusterScopeContext,
  Example,
  ExcludeSpec,
  MatchSpec,
  NamespaceInfo,
  ObjectContext,
  Params,
  Policy,
  ReportOptions,
} from './dsl.js';
export { Engine, ClusterEngine, EXCEPTION_EXPIRED, EXCEPTION_INVALID, query } from './engine.js';
export type { EvaluateOptions, Evaluation } from './engine.js';
export type { ClusterContext } from './context.js';
export { Inventory } from './inventory.js';
export type { Resource } from './inventory.js';
export { PodView, POD_TEMPLATE_PATHS, POD_CONTROLLER_KINDS } from './pod.js';
export type { ContainerView, VolumeView } from './pod.js';
export { parseQuantity, tryParseQuantity, isQuantity, compareQuantities, QuantityError } from './quantity.js';
export { matchesSelector, matchesConditions } from './labels.js';
export { matchesGlob } from './glob.js';
export { toJsonPath, splitDotted, getAt } from './path.js';
export { refOf, identityOf, groupOf, describeRef, DEFAULT_SYSTEM_NAMESPACES } from './resource.js';
export { loadPaths, loadFile, loadText } from './loader/manifests.js';
export type { LoadResult, LoadOptions } from './loader/manifests.js';
export * from './types.js';
export { inProcessEvaluator } from './evaluator.js';
export type { Evaluator } from './evaluator.js';
export { PolicyRuntime } from './runtime.js';
export type { SandboxOptions } from './sandbox/pool.js';
export { runPolicyExamples, runTestFiles } from './testing.js';
export { dedupeFindings } from './dedupe.js';
export type { CaseResult } from './testing.js';
