/**
 * The authoring layer: what policy authors write with — definePolicy and the policy types, the pod/container views,
 * Kubernetes quantities, label selectors, JSONPaths. Built on the model only; it knows nothing of how policies are
 * evaluated or loaded.
 */
export { definePolicy, defineClusterPolicy, POLICY_ID, PolicyDefinitionError } from './dsl.js';
export { defineFleetPolicy, isFleetExample } from './fleet.js';
export type { FleetClusterView, FleetExample, FleetInventoryView, FleetPolicySpec, FleetScopeContext } from './fleet.js';
export type {
  ClusterInfo,
  ClusterPolicySpec,
  ClusterScopeContext,
  Example,
  ExcludeSpec,
  MatchSpec,
  NamespaceInfo,
  ObjectContext,
  ObjectPolicySpec,
  Params,
  Policy,
  ReportOptions,
} from './dsl.js';
export { PodView, POD_TEMPLATE_PATHS, POD_CONTROLLER_KINDS, isPodController } from './pod.js';
export type { ContainerType, ContainerView, ProbeField, VolumeView } from './pod.js';
export type { CustomObject, KindTypes, ObjectFor, ObjectOfKind, PodController } from './kinds.js';
export { param, ParameterError, parameterTypeProblems, isParamSpec, joinParams, splitParams, valueProblem } from './params.js';
export type { ParamSchema, ParamSpec, ParamType, ParamValue, ParamValues } from './params.js';
export { parseQuantity, tryParseQuantity, isQuantity, compareQuantities, QuantityError } from './quantity.js';
export { matchesSelector, matchesConditions } from './labels.js';
export type { LabelConditions } from './labels.js';
export { toJsonPath, splitDotted, getAt } from './path.js';
export { didYouMean, unknownKeys, undeclaredParameters } from './strict.js';
