/**
 * The engine layer: evaluation of policies over objects for one cluster context — matching, autogen for pod
 * controllers, scopes, actions, parameters, exceptions — and the runtime that runs users' policies in sandboxed
 * worker threads. Built on the model and the authoring layer; it never imports loading, reports, the CLI, the
 * applications or the built-in packs (those are handed in by the composition root).
 */
export { Engine, ClusterEngine, EXCEPTION_EXPIRED, EXCEPTION_INVALID, query } from './engine.js';
export type { EvaluateOptions, Evaluation } from './engine.js';
export { resolveAction, resolveParams, parsePairs } from './context.js';
export type { ClusterContext } from './context.js';
export { isExceptionObject, EXCEPTION_GROUP, EXCEPTION_KIND } from './exceptions.js';
export type { PolicyException } from './exceptions.js';
export { inProcessEvaluator } from './evaluator.js';
export type { Evaluator } from './evaluator.js';
export { PolicyRuntime } from './runtime.js';
export type { SandboxOptions } from './sandbox/pool.js';
export {
  ROLLOUT_INVALID,
  ROLLOUT_KIND,
  actionMap,
  applyRollouts,
  effectiveActions,
  isRolloutObject,
  parseDuration,
  parseRollout,
  rolloutAction,
  rolloutActions,
  rolloutNames,
  rolloutsAmong,
  rolloutInvalidFinding,
  stageBatches,
} from './rollouts.js';
export type { EffectiveAction, PolicyRollout, RolloutAction, RolloutStage } from './rollouts.js';
export { clusterActions, nextStep, stagePlans } from './rollout-plan.js';
export type { ClusterAction, FleetMember, NextStep, StagePlan, StageState } from './rollout-plan.js';
