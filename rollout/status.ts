import type { Policy } from '../src/authoring/index.js';
import { isRolloutObject, parseRollout, rolloutNames, type PolicyRollout } from '../src/engine/index.js';
import { identityOf, type SourceLocation } from '../src/model/index.js';
import type { DesiredState } from '../scanner/desired.js';
import type { Fleet, FleetCluster } from '../scanner/fleet.js';
import type { ClusterSource } from '../scanner/scan.js';
import { currentFindings, desiredViolations, RepoPositions, type Blocker, type FindingsHistory } from './gates.js';
import { clusterActions, nextStep, stagePlans, type ClusterAction, type StagePlan } from '../src/engine/index.js';

export type NextState = 'ready' | 'waiting' | 'blocked';

export interface NextReport {
  stage: number;
  batch?: number;
  state: NextState;
  reason: string;
  clusters: string[];
  soakEndsAt?: string;
  blockers: Blocker[];
}

export interface RolloutReport {
  name: string;
  file: string;
  line?: number;
  policies: string[];
  stage: number;
  batch?: number;
  since?: string;
  paused: boolean;
  stages: StagePlan[];
  clusters: ClusterAction[];
  /** null once the last stage (and its last batch) is reached. */
  next: NextReport | null;
}

export interface FoundRollout {
  rollout: PolicyRollout;
  identity: string;
  file: string;
  source?: SourceLocation;
}

export interface RolloutError {
  file: string;
  line?: number;
  message: string;
}

/** Every PolicyRollout the config repo declares, with the file that holds it (the file `advance` edits). */
export function findRollouts(positions: RepoPositions): { found: FoundRollout[]; errors: RolloutError[] } {
  const found: FoundRollout[] = [];
  const errors: RolloutError[] = [];
  const files = new Map<string, string[]>();
  for (const r of positions.all()) {
    if (!isRolloutObject(r.object)) continue;
    const source = r.locate?.([]);
    const file = r.file ?? source?.file ?? '';
    const id = identityOf(r.object);
    (files.get(id) ?? files.set(id, []).get(id)!).push(file);
    const parsed = parseRollout(r.object);
    if (typeof parsed === 'string') errors.push({ file, line: source?.line, message: `invalid PolicyRollout: ${parsed}` });
    else found.push({ rollout: parsed, identity: id, file, source });
  }
  for (const [id, list] of files)
    if (list.length > 1) errors.push({ file: list[0], message: `PolicyRollout ${id} is declared in several files (${list.join(', ')}); a rollout must have one file for "rollout advance" to edit` });
  return { found, errors };
}

export interface StatusOptions {
  fleet: Fleet;
  desired: DesiredState;
  positions: RepoPositions;
  policies: readonly Policy[];
  now: Date;
  history?: FindingsHistory;
  source?: ClusterSource;
}

function hours(ms: number): string {
  const h = ms / 3_600_000;
  return h >= 1 ? `${Math.ceil(h * 10) / 10}h` : `${Math.ceil(ms / 60_000)}m`;
}

/** The rollout's stages and cluster actions, and whether its next step may start, with the blockers if not. */
export async function rolloutStatus(found: FoundRollout, opts: StatusOptions): Promise<RolloutReport> {
  const { rollout } = found;
  const members: FleetCluster[] = opts.fleet.clusters.filter((c) => opts.desired.for(c).has(found.identity));
  const report = stagesReport(found, members);
  const step = nextStep(rollout, members);
  if (!step) return report;
  const byName = new Map(members.map((c) => [c.name, c]));
  const evidence = step.evidenceClusters.map((n) => byName.get(n)!);
  const targets = step.clusters.map((n) => byName.get(n)!);
  const named = (id: string) => rolloutNames(rollout, id);
  const evidenceFound = opts.history
    ? await opts.history(step.evidenceClusters, named, rollout.since)
    : await currentFindings(opts.fleet, evidence, rollout, opts.policies, opts.desired, opts.source);
  const violations = await desiredViolations(opts.fleet, targets, rollout, opts.policies, opts.desired, opts.positions);
  const { reasons, blockers } = gateBlockers(rollout, step, evidenceFound, violations);
  report.next = nextReport(rollout, step, reasons, blockers, opts.now);
  return report;
}

/** What the rollout file says and what it plans, before any evidence is read. */
function stagesReport(found: FoundRollout, members: FleetCluster[]): RolloutReport {
  const { rollout } = found;
  return {
    name: rollout.name,
    file: found.file,
    ...(found.source?.line ? { line: found.source.line } : {}),
    policies: rollout.policies,
    stage: rollout.stage,
    ...(rollout.batch !== undefined ? { batch: rollout.batch } : {}),
    ...(rollout.since ? { since: rollout.since.toISOString() } : {}),
    paused: rollout.paused,
    stages: stagePlans(rollout, members),
    clusters: clusterActions(rollout, members),
    next: null,
  };
}

type Step = NonNullable<ReturnType<typeof nextStep>>;

/** Why the gate holds the next step: each reason, and the findings, unknown clusters and violations behind it. */
function gateBlockers(rollout: PolicyRollout, step: Step, evidenceFound: Blocker[], violations: Blocker[]) {
  const findings = evidenceFound.filter((b) => b.kind === 'finding');
  const unknown = evidenceFound.filter((b) => b.kind === 'unknown');
  const violationCount = violations.reduce((n, v) => n + (v.clusters?.length ?? 1), 0);
  const reasons: string[] = [];
  const blockers: Blocker[] = [];
  if (rollout.paused) reasons.push('the rollout is paused');
  if (unknown.length) {
    reasons.push(`${unknown.length} cluster(s) at the current stage could not be judged`);
    blockers.push(...unknown);
  }
  if (findings.length > rollout.gate.maxFindings) {
    reasons.push(`${findings.length} finding(s) on clusters at stage ${rollout.stage} (gate allows ${rollout.gate.maxFindings})`);
    blockers.push(...findings);
  }
  if (violationCount > rollout.gate.maxDesiredViolations) {
    reasons.push(`the desired state of the next clusters has ${violationCount} violation(s) (gate allows ${rollout.gate.maxDesiredViolations})`);
    blockers.push(...violations);
  }
  if (rollout.stage >= 0 && step.soakMs && !rollout.since) reasons.push('status.since is missing, so the soak cannot be timed');
  return { reasons, blockers };
}

/** The next step: blocked with its reasons, waiting for the soak, or ready. */
function nextReport(rollout: PolicyRollout, step: Step, reasons: string[], blockers: Blocker[], now: Date): NextReport {
  const next: NextReport = {
    stage: step.stage,
    ...(step.batch !== undefined ? { batch: step.batch } : {}),
    state: 'ready',
    reason: '',
    clusters: step.clusters,
    ...(step.soakEndsAt ? { soakEndsAt: step.soakEndsAt.toISOString() } : {}),
    blockers,
  };
  if (reasons.length) {
    next.state = 'blocked';
    next.reason = reasons.join('; ');
  } else if (step.soakEndsAt && step.soakEndsAt.getTime() > now.getTime()) {
    next.state = 'waiting';
    next.reason = `soak of stage ${rollout.stage} ends ${step.soakEndsAt.toISOString()} (${hours(step.soakEndsAt.getTime() - now.getTime())} left)`;
  } else {
    next.reason = step.batch !== undefined && step.stage === rollout.stage
      ? `batch ${step.batch} of stage ${step.stage} may start`
      : `stage ${step.stage} may start`;
  }
  return next;
}
