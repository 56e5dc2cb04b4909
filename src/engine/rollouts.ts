import { ACTIONS, groupOf, isPlainObject, matchesGlob, refOf, type Action, type Finding, type KubeObject, type Resource, type SourceLocation } from '../model/index.js';
import type { ClusterContext } from './context.js';

/**
 * Policy slow roll by cohort, kept in the config repo beside the PolicyExceptions:
 *
 *   apiVersion: fleetgate.io/v1alpha1
 *   kind: PolicyRollout
 *   metadata: { name: restricted-pod-security }
 *   spec:
 *     policies: ["pss.restricted.*"]            # ids or globs
 *     cohortLabel: cohort                       # the cluster label that places a cluster in a stage (default cohort)
 *     before: audit                             # action where no stage has reached yet (default audit)
 *     stages:
 *       - { cohorts: ["0"], action: deny }
 *       - { cohorts: ["1"], action: warn, soak: 48h }
 *       - { cohorts: ["3"], action: deny, soak: 72h, batchSize: 50 }
 *     gate: { maxFindings: 0, maxDesiredViolations: 0 }
 *   status: { stage: 1, since: "2026-12-01T09:00:00Z" }   # stage reached (0-based); written by `rollout advance`
 *
 * A cluster's action for the rollout's policies is that of the last reached stage naming its cohort, else `before`.
 * A stage with `batchSize` reaches its cohorts' clusters in batches of that size, in the order of their names;
 * `status.batch` counts the batches reached (absent: all of them).
 */

export const ROLLOUT_KIND = 'PolicyRollout';
export const ROLLOUT_INVALID = 'fleetgate.rollout-invalid';

export interface RolloutStage {
  cohorts: string[];
  action: Action;
  /** Soak before the next stage may start, in milliseconds. */
  soakMs: number;
  soakText?: string;
  batchSize?: number;
}

export interface PolicyRollout {
  name: string;
  policies: string[];
  cohortLabel: string;
  before: Action;
  stages: RolloutStage[];
  gate: { maxFindings: number; maxDesiredViolations: number };
  /** Index of the stage reached; -1 when the rollout has not started. */
  stage: number;
  /** Batches of the reached stage that are reached (only for a stage with batchSize); undefined = all. */
  batch?: number;
  since?: Date;
  paused: boolean;
  object: KubeObject;
}

export function isRolloutObject(obj: KubeObject): boolean {
  return obj.kind === ROLLOUT_KIND && groupOf(obj.apiVersion) === 'fleetgate.io';
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** `48h`, `90m`, `7d` → milliseconds; undefined when the text is not a duration. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  return m ? Number(m[1]) * UNIT_MS[m[2]] : undefined;
}

const SPEC_KEYS = new Set(['policies', 'cohortLabel', 'before', 'stages', 'gate']);
const STAGE_KEYS = new Set(['cohorts', 'action', 'soak', 'batchSize']);
const STATUS_KEYS = new Set(['stage', 'since', 'batch', 'paused', 'reason', 'forcedAt', 'forcedReason']);

function isAction(v: unknown): v is Action {
  return typeof v === 'string' && (ACTIONS as readonly string[]).includes(v);
}

function unknownKey(obj: Record<string, unknown>, allowed: Set<string>, where: string): string | undefined {
  const bad = Object.keys(obj).find((k) => !allowed.has(k));
  return bad === undefined ? undefined : `${where}.${bad} is not a PolicyRollout field (expected one of ${[...allowed].join(', ')})`;
}

function count(v: unknown, what: string): number | string {
  if (v === undefined) return 0;
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : `${what} must be a whole number ≥ 0`;
}

/** Parses a PolicyRollout object; returns a string saying what is wrong when it is unusable. */
export function parseRollout(obj: KubeObject): PolicyRollout | string {
  const spec = obj.spec;
  if (!isPlainObject(spec)) return 'spec is missing';
  const bad = unknownKey(spec, SPEC_KEYS, 'spec');
  if (bad) return bad;
  const { policies, stages } = spec;
  if (!Array.isArray(policies) || !policies.length || !policies.every((p) => typeof p === 'string' && p))
    return 'spec.policies must list policy ids or globs';
  const cohortLabel = spec.cohortLabel ?? 'cohort';
  if (typeof cohortLabel !== 'string' || !cohortLabel) return 'spec.cohortLabel must be a label key';
  const before = spec.before ?? 'audit';
  if (!isAction(before)) return `spec.before must be one of ${ACTIONS.join(', ')}`;
  if (!Array.isArray(stages) || !stages.length) return 'spec.stages must list at least one stage';
  const parsed: RolloutStage[] = [];
  for (const [i, s] of stages.entries()) {
    const stage = parseStage(s, `spec.stages[${i}]`);
    if (typeof stage === 'string') return stage;
    parsed.push(stage);
  }
  const gate = parseGate(spec.gate ?? {});
  if (typeof gate === 'string') return gate;
  const status = parseStatus(obj.status ?? {}, parsed.length);
  if (typeof status === 'string') return status;
  return {
    name: refOf(obj).name,
    policies: policies as string[],
    cohortLabel,
    before,
    stages: parsed,
    gate,
    ...status,
    object: obj,
  };
}

function parseStage(s: unknown, where: string): RolloutStage | string {
  if (!isPlainObject(s)) return `${where} must be a map`;
  const badStage = unknownKey(s, STAGE_KEYS, where);
  if (badStage) return badStage;
  const cohorts = s.cohorts;
  if (!Array.isArray(cohorts) || !cohorts.length || !cohorts.every((c) => typeof c === 'string' || typeof c === 'number'))
    return `${where}.cohorts must list cohort label values (strings, e.g. ["1"])`;
  if (!isAction(s.action)) return `${where}.action must be one of ${ACTIONS.join(', ')}`;
  let soakMs = 0;
  if (s.soak !== undefined) {
    const ms = typeof s.soak === 'string' ? parseDuration(s.soak) : undefined;
    if (ms === undefined) return `${where}.soak "${String(s.soak)}" is not a duration (e.g. 48h, 90m, 7d)`;
    soakMs = ms;
  }
  if (s.batchSize !== undefined && !(typeof s.batchSize === 'number' && Number.isInteger(s.batchSize) && s.batchSize > 0))
    return `${where}.batchSize must be a whole number > 0`;
  return { cohorts: cohorts.map(String), action: s.action, soakMs, soakText: s.soak as string | undefined, batchSize: s.batchSize as number | undefined };
}

function parseGate(gate: unknown): PolicyRollout['gate'] | string {
  if (!isPlainObject(gate)) return 'spec.gate must be a map';
  const badGate = unknownKey(gate, new Set(['maxFindings', 'maxDesiredViolations']), 'spec.gate');
  if (badGate) return badGate;
  const maxFindings = count(gate.maxFindings, 'spec.gate.maxFindings');
  if (typeof maxFindings === 'string') return maxFindings;
  const maxDesiredViolations = count(gate.maxDesiredViolations, 'spec.gate.maxDesiredViolations');
  if (typeof maxDesiredViolations === 'string') return maxDesiredViolations;
  return { maxFindings, maxDesiredViolations };
}

/** Where the rollout is (the status its controller, `fleetgate rollout`, writes), checked against its stages. */
function parseStatus(status: unknown, stages: number): Pick<PolicyRollout, 'stage' | 'batch' | 'since' | 'paused'> | string {
  if (!isPlainObject(status)) return 'status must be a map';
  const badStatus = unknownKey(status, STATUS_KEYS, 'status');
  if (badStatus) return badStatus;
  const stage = status.stage ?? -1;
  if (typeof stage !== 'number' || !Number.isInteger(stage) || stage < -1 || stage >= stages)
    return `status.stage must be a stage index from 0 to ${stages - 1}`;
  let since: Date | undefined;
  if (status.since !== undefined) {
    since = status.since instanceof Date ? status.since : new Date(String(status.since));
    if (Number.isNaN(since.getTime())) return `status.since "${String(status.since)}" is not a time (RFC 3339)`;
  }
  const batch = status.batch;
  if (batch !== undefined && !(typeof batch === 'number' && Number.isInteger(batch) && batch > 0)) return 'status.batch must be a whole number > 0';
  return { stage, batch, since, paused: status.paused === true };
}

export function rolloutNames(rollout: PolicyRollout, policyId: string): boolean {
  return rollout.policies.some((p) => matchesGlob(policyId, p));
}

/** Clusters of a stage in rollout order (names sorted), split into its batches (one batch without batchSize). */
export function stageBatches(stage: RolloutStage, clusters: readonly { name: string; labels: Record<string, string> }[], cohortLabel: string): string[][] {
  const names = clusters.filter((c) => stage.cohorts.includes(c.labels[cohortLabel] ?? '')).map((c) => c.name).sort();
  if (!stage.batchSize) return [names];
  const out: string[][] = [];
  for (let i = 0; i < names.length; i += stage.batchSize) out.push(names.slice(i, i + stage.batchSize));
  return out.length ? out : [[]];
}

/** Whether stage `i` has reached a cluster (by cohort, and by batch when the stage is the current batched one). */
function stageReaches(
  rollout: PolicyRollout,
  i: number,
  cluster: { name?: string; labels: Record<string, string> },
  fleet: readonly { name: string; labels: Record<string, string> }[] | undefined,
): boolean {
  const stage = rollout.stages[i];
  if (!stage.cohorts.includes(cluster.labels[rollout.cohortLabel] ?? '')) return false;
  if (i !== rollout.stage || !stage.batchSize || rollout.batch === undefined) return true;
  // A partly reached batched stage: only the clusters of its first `batch` batches. Without the fleet's cluster
  // list (serve, lint without --fleet) the batch is unknown, and the stage is not counted as reached.
  if (!fleet || !cluster.name) return false;
  return stageBatches(stage, fleet, rollout.cohortLabel).slice(0, rollout.batch).some((b) => b.includes(cluster.name!));
}

export interface RolloutAction {
  action: Action;
  rollout: string;
  /** `stage N` or `before` — where the action comes from, for `fleetgate policies` and reports. */
  from: string;
}

/** The action a rollout gives its policies on one cluster. */
export function rolloutAction(
  rollout: PolicyRollout,
  cluster: { name?: string; labels: Record<string, string> },
  fleet?: readonly { name: string; labels: Record<string, string> }[],
): RolloutAction {
  for (let i = rollout.stage; i >= 0; i--) {
    if (stageReaches(rollout, i, cluster, fleet)) return { action: rollout.stages[i].action, rollout: rollout.name, from: `stage ${i}` };
  }
  return { action: rollout.before, rollout: rollout.name, from: 'before' };
}

/**
 * Effective actions of the given policy ids on one cluster, as exact-id entries that win over every pattern in a
 * cluster's action map. When two rollouts name the same policy, the one whose pattern is most specific wins (as
 * for `--action`), then the first in file order.
 */
export function rolloutActions(
  rollouts: readonly PolicyRollout[],
  policyIds: readonly string[],
  cluster: { name?: string; labels: Record<string, string> },
  fleet?: readonly { name: string; labels: Record<string, string> }[],
): Map<string, RolloutAction> {
  const out = new Map<string, RolloutAction>();
  const best = new Map<string, number>();
  for (const r of rollouts) {
    let action: RolloutAction | undefined;
    for (const id of policyIds) {
      let len = -1;
      for (const p of r.policies) if (matchesGlob(id, p)) len = Math.max(len, p === id ? Infinity : p.replace(/\*/g, '').length);
      if (len < 0 || len <= (best.get(id) ?? -1)) continue;
      action ??= rolloutAction(r, cluster, fleet);
      out.set(id, action);
      best.set(id, len);
    }
  }
  return out;
}

export interface EffectiveAction {
  action: Action;
  /** `default`, `actions` (configured for many clusters), `rollout NAME stage N|before`, or `override` (this cluster's own). */
  from: string;
}

function matchingPattern(id: string, actions: Record<string, Action>): Action | undefined {
  let best: { len: number; action: Action } | undefined;
  for (const [pattern, action] of Object.entries(actions)) {
    if (!matchesGlob(id, pattern)) continue;
    const len = pattern === id ? Infinity : pattern.replace(/\*/g, '').length;
    if (!best || len > best.len) best = { len, action };
  }
  return best?.action;
}

/**
 * Each policy's effective action on one cluster and where it comes from. Precedence, lowest first: the policy's
 * default; `base` actions (fleet-wide and per-label ones of fleet.yaml, the webhook's config file); the rollout
 * naming the policy; `pinned` actions (a cluster's own actions in fleet.yaml, `--action` flags), which stay an
 * operator's last word — a rollout replaces per-cohort overrides, not an explicit decision for one cluster.
 */
export function effectiveActions(
  policies: readonly { id: string; action: Action }[],
  base: Record<string, Action>,
  pinned: Record<string, Action>,
  rollouts: readonly PolicyRollout[],
  cluster: { name?: string; labels: Record<string, string> },
  fleet?: readonly { name: string; labels: Record<string, string> }[],
): Map<string, EffectiveAction> {
  const fromRollouts = rolloutActions(rollouts, policies.map((p) => p.id), cluster, fleet);
  const out = new Map<string, EffectiveAction>();
  for (const p of policies) {
    const own = matchingPattern(p.id, pinned);
    const r = fromRollouts.get(p.id);
    const configured = matchingPattern(p.id, base);
    if (own !== undefined) out.set(p.id, { action: own, from: 'override' });
    else if (r) out.set(p.id, { action: r.action, from: `rollout ${r.rollout} ${r.from}` });
    else if (configured !== undefined) out.set(p.id, { action: configured, from: 'actions' });
    else out.set(p.id, { action: p.action, from: 'default' });
  }
  return out;
}

/** The action map a cluster context carries: exact ids for every policy, so the precedence above holds. */
export function actionMap(effective: Map<string, EffectiveAction>): Record<string, Action> {
  const out: Record<string, Action> = {};
  for (const [id, e] of effective) out[id] = e.action;
  return out;
}

/** PolicyRollouts among objects (lint's files, a cluster's desired state): the usable ones and what is wrong with the rest. */
export function rolloutsAmong(objects: Iterable<KubeObject>): { rollouts: PolicyRollout[]; invalid: { object: KubeObject; message: string }[] } {
  const rollouts: PolicyRollout[] = [];
  const invalid: { object: KubeObject; message: string }[] = [];
  for (const o of objects) {
    if (!isRolloutObject(o)) continue;
    const r = parseRollout(o);
    if (typeof r === 'string') invalid.push({ object: o, message: `invalid PolicyRollout: ${r}` });
    else rollouts.push(r);
  }
  return { rollouts, invalid };
}

/** A malformed PolicyRollout is a finding on itself (with its file:line), as a malformed PolicyException is. */
export function rolloutInvalidFinding(object: KubeObject, message: string, source?: SourceLocation): Finding {
  return { policy: ROLLOUT_INVALID, severity: 'medium', action: 'warn', message, resource: refOf(object), path: '$', ...(source ? { source } : {}) };
}

/**
 * A cluster context with the rollouts among `resources` applied to its actions: what lint and serve do with the
 * objects they are given. `context.actions` are the operator's own (flags, or the cluster's config) and win.
 */
export function applyRollouts(
  context: ClusterContext,
  policies: readonly { id: string; action: Action }[],
  resources: readonly Resource[],
  base: Record<string, Action> = {},
): { context: ClusterContext; rollouts: PolicyRollout[]; findings: Finding[] } {
  const { rollouts, invalid } = rolloutsAmong(resources.map((r) => r.object));
  const located = new Map(resources.map((r) => [r.object, r]));
  const findings = invalid.map((i) => rolloutInvalidFinding(i.object, i.message, located.get(i.object)?.locate?.([])));
  if (!rollouts.length) return { context: { ...context, actions: { ...base, ...context.actions } }, rollouts, findings };
  const effective = effectiveActions(policies, base, context.actions ?? {}, rollouts, { name: context.name, labels: context.labels ?? {} });
  return { context: { ...context, actions: actionMap(effective) }, rollouts, findings };
}
