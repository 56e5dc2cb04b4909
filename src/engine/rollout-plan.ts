import type { Action } from '../model/index.js';
import { rolloutAction, stageBatches, type PolicyRollout } from './rollouts.js';

/**
 * Where a rollout stands over a fleet, and what its next step would be — pure: no files, no clusters read.
 * A step is either the next stage, or the next batch of the current stage when it has `batchSize`.
 */

export interface FleetMember {
  name: string;
  labels: Record<string, string>;
}

export type StageState = 'done' | 'current' | 'pending';

export interface StagePlan {
  index: number;
  cohorts: string[];
  action: Action;
  soak?: string;
  batchSize?: number;
  /** Clusters of the stage's cohorts, in rollout order. */
  clusters: string[];
  /** Batches reached, for the current batched stage. */
  batchesReached?: number;
  batches: number;
  state: StageState;
}

export interface ClusterAction {
  name: string;
  cohort: string | null;
  action: Action;
  /** `stage N` or `before`. */
  from: string;
}

export interface NextStep {
  stage: number;
  /** Set when the step reaches the next batch of a batched stage. */
  batch?: number;
  /** Clusters the step would reach (their action changes). */
  clusters: string[];
  /** Clusters whose findings are the evidence: those the current stage has reached. */
  evidenceClusters: string[];
  /** The soak of the current stage, and when it ends (the step may not start before). */
  soakMs: number;
  soakEndsAt?: Date;
}

export function stagePlans(rollout: PolicyRollout, fleet: readonly FleetMember[]): StagePlan[] {
  return rollout.stages.map((s, index) => {
    const batches = stageBatches(s, fleet, rollout.cohortLabel);
    const current = index === rollout.stage;
    const plan: StagePlan = {
      index,
      cohorts: s.cohorts,
      action: s.action,
      clusters: batches.flat(),
      batches: batches.length,
      state: index < rollout.stage ? 'done' : current ? 'current' : 'pending',
    };
    if (s.soakText) plan.soak = s.soakText;
    if (s.batchSize) plan.batchSize = s.batchSize;
    if (current && s.batchSize) plan.batchesReached = rollout.batch ?? batches.length;
    return plan;
  });
}

export function clusterActions(rollout: PolicyRollout, fleet: readonly FleetMember[]): ClusterAction[] {
  return [...fleet]
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((c) => ({ name: c.name, cohort: c.labels[rollout.cohortLabel] ?? null, ...pick(rolloutAction(rollout, c, fleet)) }));
}

function pick(a: { action: Action; from: string }): { action: Action; from: string } {
  return { action: a.action, from: a.from };
}

/** Clusters the rollout has reached with its current stage (those whose action is that stage's). */
function reachedBy(rollout: PolicyRollout, fleet: readonly FleetMember[]): string[] {
  if (rollout.stage < 0) return [];
  const from = `stage ${rollout.stage}`;
  return clusterActions(rollout, fleet).filter((c) => c.from === from).map((c) => c.name);
}

/** The next step, or undefined when the last stage (and its last batch) has been reached. */
export function nextStep(rollout: PolicyRollout, fleet: readonly FleetMember[]): NextStep | undefined {
  const current = rollout.stage >= 0 ? rollout.stages[rollout.stage] : undefined;
  const evidenceClusters = reachedBy(rollout, fleet);
  if (current?.batchSize && rollout.batch !== undefined) {
    const batches = stageBatches(current, fleet, rollout.cohortLabel);
    if (rollout.batch < batches.length) {
      // Batches of one stage follow each other on evidence alone: the stage's soak comes after its last batch.
      return { stage: rollout.stage, batch: rollout.batch + 1, clusters: batches[rollout.batch], evidenceClusters, soakMs: 0 };
    }
  }
  const index = rollout.stage + 1;
  const stage = rollout.stages[index];
  if (!stage) return undefined;
  const batches = stageBatches(stage, fleet, rollout.cohortLabel);
  const soakMs = current?.soakMs ?? 0;
  const step: NextStep = {
    stage: index,
    clusters: stage.batchSize ? batches[0] : batches.flat(),
    evidenceClusters,
    soakMs,
  };
  if (stage.batchSize) step.batch = 1;
  if (rollout.since && soakMs) step.soakEndsAt = new Date(rollout.since.getTime() + soakMs);
  return step;
}
