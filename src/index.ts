/**
 * fleetgate's public surface: what policy authors (built-in packs and users' .ts files) import as `fleetgate`.
 * It re-exports the layers' entry points (see docs/architecture.md). Loading policy files
 * (src/loading/policy-files.ts) is for entry points and stays out of here.
 */
export { definePolicy, defineClusterPolicy, defineFleetPolicy, POLICY_ID, PolicyDefinitionError, param, ParameterError } from './authoring/index.js';
export type {
  ClusterInfo,
  ClusterScopeContext,
  Example,
  ExcludeSpec,
  FleetClusterView,
  FleetExample,
  FleetInventoryView,
  FleetScopeContext,
  MatchSpec,
  NamespaceInfo,
  ObjectContext,
  ObjectFor,
  ObjectOfKind,
  KindTypes,
  CustomObject,
  PodController,
  ParamSchema,
  ParamSpec,
  ParamValues,
  Params,
  Policy,
  ReportOptions,
} from './authoring/index.js';
export { createEvaluator, inProcessEvaluator, EXCEPTION_EXPIRED, EXCEPTION_INVALID, query } from './engine/index.js';
export type { Change, ChangeEvaluation, EvaluateOptions, Evaluation, Evaluator, EvaluatorOptions } from './engine/index.js';
export type { ClusterContext } from './engine/index.js';
export { Inventory } from './model/index.js';
export type { Resource } from './model/index.js';
export { PodView, POD_TEMPLATE_PATHS, POD_CONTROLLER_KINDS } from './authoring/index.js';
export type { ContainerView, ProbeField, VolumeView } from './authoring/index.js';
export { parseQuantity, tryParseQuantity, isQuantity, compareQuantities, QuantityError } from './authoring/index.js';
export { matchesSelector, matchesConditions } from './authoring/index.js';
export { toJsonPath, splitDotted, getAt } from './authoring/index.js';
export { refOf, identityOf, groupOf, describeRef, isPlainObject, DEFAULT_SYSTEM_NAMESPACES } from './model/index.js';
export { loadPaths, loadFile, loadText } from './loading/index.js';
export type { LoadResult, LoadOptions } from './loading/index.js';
export { SEVERITIES, ACTIONS, SEVERITY_RANK } from './model/index.js';
export type {
  Severity,
  Action,
  Scope,
  Operation,
  ObjectMeta,
  KubeObject,
  ResourceRef,
  SourceLocation,
  PathSegments,
  Finding,
  InputError,
  LabelSelector,
} from './model/index.js';
export type { SandboxOptions } from './engine/index.js';
export { runPolicyExamples, runTestFiles } from './loading/index.js';
export { dedupeFindings } from './engine/index.js';
export { matchesGlob } from './model/index.js';
export type { CaseResult } from './loading/index.js';
