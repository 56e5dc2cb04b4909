/**
 * The engine layer: policies judged over objects for one cluster context — matching, autogen for pod controllers,
 * scopes, actions, parameters, exceptions — with users' policies in a sandboxed V8 isolate. Built on the model
 * and the authoring layer; it never imports loading, reports, the CLI, the applications or the built-in packs
 * (the composition root hands those in).
 *
 * ## The evaluation façade: `Evaluator`
 *
 * Every entry point (lint, test, serve, scan, watch) judges through one `Evaluator`, made once for a policy set and
 * a cluster context (labels, parameters, action overrides):
 *
 *   const ev = await createEvaluator(policies, { name, labels, parameters, actions }, { sandbox: { timeoutMs } });
 *   const ev = inProcessEvaluator(policies, cluster);   // every policy on this thread, built synchronously
 *
 * - **Sync or async, decided at construction.** `ev.sync` is `true` when no policy comes from a user's file
 *   (`Policy.file`): then every method returns its result directly, with no promise and no timer (the webhook's
 *   fast path for built-ins). Users' policies run in a V8 isolate (isolated-vm) called synchronously with a
 *   time and memory budget, so those evaluators are synchronous too; `ev.sync === false` is the per-turn
 *   evaluator (`createEvaluator(..., { perTurn: true })`, the webhook's: built-ins judge an object at once, and
 *   the users' policies judge every object given in one event-loop turn in one call into the isolate at the
 *   turn's end, `PolicyHost.runBatch`, at most 64 a call; a policy stopped on one object is an error finding on
 *   that object only) and evaluators that hand work to another thread (tests inject one).
 *   `Evaluator<true>` / `Evaluator<false>` carry that in the types; `Evaluator` is their union, and
 *   `if (ev.sync)` narrows it.
 * - `ev.evaluate(resources, opts)` — a whole inventory (lint's files, a cluster in scan): object- and
 *   namespace-scope policies per object, cluster-scope policies once; PolicyExceptions among the resources waive
 *   findings (expired and invalid ones are reported as `fleetgate.exception-expired` / `-invalid`).
 *   `Evaluation.checks` counts, per policy, the objects it judged (the scanner's score).
 * - `ev.evaluateObject(object, opts)` — one object on its own (admission): object and namespace scopes only,
 *   namespace labels from `opts.namespaceLabels`; checks are not counted.
 * - `ev.evaluateChange(inventory, { object, deleted? }, opts)` — one changed object against the inventory the
 *   caller keeps (which already holds the change; a deleted object is no longer in it). It judges the changed
 *   object, every object in a changed Namespace (their namespace labels may have changed), and the cluster-scope
 *   policies over the whole inventory; a changed PolicyException judges everything again. The result's
 *   `reevaluated` says what it replaces: every finding the caller holds about `reevaluated.objects` and every
 *   finding of `reevaluated.clusterPolicies` (which include the exception-* ids). Cluster-scope policies read the
 *   whole inventory, so they all run on each change (they are few; object-scope work stays per object).
 * - `ev.forCluster(context)` — the same policies for another cluster, sharing the sandbox (a fleet scan,
 *   a watch over many clusters). `ev.close()` stops the workers (only the evaluator that started them does).
 * - `ev.appliesTo(kind)`, `ev.isSystemNamespace(name, labels)`, `ev.labels`, `ev.name`, `ev.policies`.
 *
 * Options (`EvaluateOptions`): `operation` and `oldObject` (admission; default CREATE), `scopes`,
 * `namespaceLabels(name)` (labels from outside the inventory), `exceptions` (waivers from elsewhere, e.g. the
 * config repo), `now` (for expiry). State a policy needs while judging lives in the evaluation's context
 * (`ObjectContext`), never in module variables: evaluations may interleave.
 */
export { EXCEPTION_EXPIRED, EXCEPTION_INVALID, query } from './engine.js';
export type { EvaluateOptions, Evaluation } from './engine.js';
export { createEvaluator, inProcessEvaluator, inventoryContext } from './evaluator.js';
export type { Change, ChangeEvaluation, Evaluator, EvaluatorOf, EvaluatorOptions, Result } from './evaluator.js';
export { resolveAction, resolveParams, parsePairs } from './context.js';
export type { ClusterContext } from './context.js';
export { isExceptionObject, EXCEPTION_GROUP, EXCEPTION_KIND } from './exceptions.js';
export type { PolicyException } from './exceptions.js';
export type { SandboxOptions } from './sandbox/host.js';
export { sandboxOf } from './sandbox/registry.js';
export type { PolicySandbox } from './sandbox/registry.js';
export type { UserPolicies } from './sandbox/load.js';

/** Loads users' policy files into the sandbox; isolated-vm and esbuild are imported only on this first use. */
export async function loadUserPolicies(...args: Parameters<typeof import('./sandbox/load.js').loadUserPolicies>) {
  return (await import('./sandbox/load.js')).loadUserPolicies(...args);
}
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
export { evaluateFleet, fleetProjection, isFleetPolicy, keepForFleet, wants as fleetPolicyApplies } from './fleet.js';
export type { FleetClusterInput, FleetEvaluation, FleetFinding, FleetLocate, FleetRuleResult } from './fleet.js';
export { dedupeFindings } from './dedupe.js';
