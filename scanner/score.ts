import {
  identityOf,
  matchesConditions,
  type Evaluator,
  type Evaluation,
  type Finding,
  type KubeObject,
  type Policy,
  type Severity,
} from '../src/index.js';

/**
 * Score (DESIGN "Fleet scan"): passed weight over total weight, 0–100, one decimal.
 *
 * Checks and their weights:
 * - each desired object's sync check weighs 5 (passes when in sync); each `unmanaged` object is a failed sync check;
 * - a policy check of one resource is one (policy, resource) pair the policy applies to, weighing critical 10,
 *   high 5, medium 2, low 1. It fails when the policy has at least one finding on that resource (any action: the
 *   action says how a finding is enforced, not whether the rule holds; a waived finding passes).
 *   Object/namespace-scope policies apply to every object they matched (the engine counts them). A cluster-scope
 *   policy applies to the inventory's objects of its first match kind (for `Namespace`: the tenant namespaces),
 *   plus any other object it reported a finding on.
 * The engine's own findings about waivers (expired/invalid PolicyException) are reported but not scored.
 * `objectScore` (ObjectTally below) weighs the same checks per object instead.
 */

export const SYNC_WEIGHT = 5;
export const SEVERITY_WEIGHT: Record<Severity, number> = { critical: 10, high: 5, medium: 2, low: 1 };

export interface PolicyTally {
  severity: Severity;
  checks: number;
  failed: number;
}

export interface ScoreParts {
  score: number;
  totalWeight: number;
  passedWeight: number;
}

/**
 * Per-object score (`objectScore`, additive to `score`): each judged object counts once — a live object some
 * policy checked, a desired object (its sync check), an unmanaged one — weighed by the highest severity among the
 * policies that judged it (critical 10, high 5, medium 2, low 1; a desired or unmanaged object at least SYNC_WEIGHT).
 * It passes only when none of its checks failed (no scored finding on it, in sync). Passed weight over total weight.
 * Why: `score` counts checks, and a cluster judges thousands of (policy, object) pairs, so 50 failing objects move
 * it by a fraction of a point; counting objects once makes each failing object weigh as much as its worst policy.
 */
export interface ObjectScoreParts {
  objectScore: number;
  objectTotalWeight: number;
  objectPassedWeight: number;
}

/** An object's weight and whether any of its checks failed. */
export interface ObjectVerdict {
  weight: number;
  failed: boolean;
}

export class ObjectTally {
  private readonly objects = new Map<string, ObjectVerdict>();

  /** One check of an object: the heaviest check sets the object's weight, and a failed check fails the object. */
  judge(id: string, weight: number, failed = false): void {
    const v = this.objects.get(id);
    if (!v) this.objects.set(id, { weight, failed });
    else {
      if (weight > v.weight) v.weight = weight;
      if (failed) v.failed = true;
    }
  }

  /** Every finding of a scored policy fails its object (findings of other ids — the engine's own — are not scored). */
  judgeFindings(findings: readonly Finding[], policies: ReadonlyMap<string, Policy>): void {
    for (const f of findings) {
      const p = policies.get(f.policy);
      if (p) this.judge(findingIdentity(f), SEVERITY_WEIGHT[p.severity], true);
    }
  }

  /** Desired objects are judged by their sync check; drift entries (missing, modified, unmanaged) fail it. */
  judgeSync(desiredIds: Iterable<string>, drift: readonly { resource: Finding['resource'] }[]): void {
    for (const id of desiredIds) this.judge(id, SYNC_WEIGHT);
    for (const d of drift) this.judge(identityOfRef(d.resource), SYNC_WEIGHT, true);
  }

  /** Verdicts of the given objects (those fleet-scope rules may judge later, see rescoreForFleet). */
  verdictsOf(ids: Iterable<string>): Record<string, ObjectVerdict> {
    const out: Record<string, ObjectVerdict> = {};
    for (const id of ids) {
      const v = this.objects.get(id);
      if (v) out[id] = { ...v };
    }
    return out;
  }

  parts(): ObjectScoreParts {
    let total = 0;
    let passed = 0;
    for (const v of this.objects.values()) {
      total += v.weight;
      if (!v.failed) passed += v.weight;
    }
    return objectParts(total, passed);
  }
}

/**
 * The per-object tally of one cluster's whole evaluation (scan): live objects by the engine's severities,
 * cluster-scope checks as tallyPolicies found them (pass the same tally there), findings, then sync.
 */
export function tallyObjects(
  objects: ObjectTally,
  policies: readonly Policy[],
  evaluation: Evaluation,
  judged: readonly KubeObject[],
  sync: { desiredIds: Iterable<string>; entries: readonly { resource: Finding['resource'] }[] },
): ObjectScoreParts {
  judgeLive(objects, judged, evaluation.topSeverity);
  objects.judgeFindings(evaluation.findings, new Map(policies.map((p) => [p.id, p])));
  objects.judgeSync(sync.desiredIds, sync.entries);
  return objects.parts();
}

export function objectParts(total: number, passed: number): ObjectScoreParts {
  return { objectScore: total === 0 ? 100 : round1((passed / total) * 100), objectTotalWeight: total, objectPassedWeight: passed };
}

/** Live objects judged by object- and namespace-scope policies, from the engine's per-object severities. */
export function judgeLive(tally: ObjectTally, judged: readonly KubeObject[], topSeverity: Evaluation['topSeverity']): void {
  if (!topSeverity) return;
  for (let i = 0; i < judged.length; i++) {
    const s = topSeverity[i];
    if (s) tally.judge(identityOf(judged[i]), SEVERITY_WEIGHT[s]);
  }
}

/**
 * After fleet-scope rules ran: each object a rule applied to (by kind, as the rule's checks count them) weighs at
 * least the rule's severity, and fails with a finding of it. Adjusts the cluster's object weights from the verdicts
 * kept for its fleet index.
 */
export function rescoreForFleet(
  parts: ObjectScoreParts,
  verdicts: Readonly<Record<string, ObjectVerdict>>,
  objects: readonly KubeObject[],
  rules: readonly FleetRuleCheck[],
): ObjectScoreParts {
  return rescoreWithFleetVerdicts(parts, verdicts, fleetRuleVerdicts(objects, rules));
}

/** One fleet-scope rule as it judged one cluster: which objects it applies to, which it failed (identities). */
export interface FleetRuleCheck {
  policy: Policy;
  applies: (o: KubeObject) => boolean;
  failed: ReadonlySet<string>;
}

/**
 * What the fleet rules say of a cluster's fleet-index objects, by identity: the heaviest rule that applied to each
 * (or reported on it) and whether one failed it. Objects no rule judged are left out. Computed where the index is
 * at hand (runFleetRules), so a cluster's report can be rescored later without it (the streamed scan).
 */
export function fleetRuleVerdicts(objects: readonly KubeObject[], rules: readonly FleetRuleCheck[]): Map<string, ObjectVerdict> {
  const out = new Map<string, ObjectVerdict>();
  for (const o of objects) {
    const id = identityOf(o);
    let weight = 0;
    let failed = false;
    let judged = false;
    for (const r of rules) {
      if (!r.applies(o) && !r.failed.has(id)) continue;
      judged = true;
      weight = Math.max(weight, SEVERITY_WEIGHT[r.policy.severity]);
      if (r.failed.has(id)) failed = true;
    }
    if (!judged) continue;
    const seen = out.get(id);
    if (!seen) out.set(id, { weight, failed });
    else {
      seen.weight = Math.max(seen.weight, weight);
      seen.failed ||= failed;
    }
  }
  return out;
}

/** The cluster's object weights with the fleet rules' verdicts folded into the verdicts kept for its fleet index. */
export function rescoreWithFleetVerdicts(
  parts: Pick<ObjectScoreParts, 'objectTotalWeight' | 'objectPassedWeight'>,
  verdicts: Readonly<Record<string, ObjectVerdict>>,
  byRules: ReadonlyMap<string, ObjectVerdict>,
): ObjectScoreParts {
  let total = parts.objectTotalWeight;
  let passed = parts.objectPassedWeight;
  for (const [id, rule] of byRules) {
    const before = verdicts[id] ?? { weight: 0, failed: false };
    const weight = Math.max(before.weight, rule.weight);
    const failed = before.failed || rule.failed;
    total += weight - before.weight;
    passed += (failed ? 0 : weight) - (before.failed ? 0 : before.weight);
  }
  return objectParts(total, passed);
}

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Per-policy checks and failures in one cluster. */
export function tallyPolicies(
  policies: readonly Policy[],
  engine: Pick<Evaluator, 'labels' | 'isSystemNamespace'>,
  evaluation: Evaluation,
  inventory: readonly KubeObject[],
  objects?: ObjectTally,
): Record<string, PolicyTally> {
  const failedBy = new Map<string, Set<string>>();
  for (const f of evaluation.findings) {
    let s = failedBy.get(f.policy);
    if (!s) failedBy.set(f.policy, (s = new Set()));
    s.add(findingIdentity(f));
  }
  const out: Record<string, PolicyTally> = {};
  for (const p of policies) {
    const failed = failedBy.get(p.id);
    if (p.scope !== 'cluster') {
      const checks = evaluation.checks[p.id] ?? 0;
      if (checks) out[p.id] = { severity: p.severity, checks, failed: Math.min(failed?.size ?? 0, checks) };
      continue;
    }
    if (!matchesConditions(engine.labels, p.match.clusterLabels)) continue;
    if (p.exclude?.clusterLabels && matchesConditions(engine.labels, p.exclude.clusterLabels)) continue;
    const first = p.match.kinds[0];
    const kind = first.slice(first.lastIndexOf('/') + 1);
    const checked = new Set<string>(failed ?? []);
    for (const o of inventory) {
      if (o.kind !== kind) continue;
      if (kind === 'Namespace' && engine.isSystemNamespace(o.metadata?.name, o.metadata?.labels)) continue;
      checked.add(identityOf(o));
    }
    if (checked.size) out[p.id] = { severity: p.severity, checks: checked.size, failed: failed?.size ?? 0 };
    if (objects) for (const id of checked) objects.judge(id, SEVERITY_WEIGHT[p.severity], failed?.has(id) ?? false);
  }
  return out;
}

function findingIdentity(f: Finding): string {
  return identityOfRef(f.resource);
}

export function identityOfRef(r: Finding['resource']): string {
  return identityOf({ apiVersion: r.apiVersion, kind: r.kind, metadata: { name: r.name, namespace: r.namespace } });
}

export function scoreOf(sync: { desired: number; inSync: number; unmanaged: number }, tallies: Record<string, PolicyTally>): ScoreParts {
  let total = (sync.desired + sync.unmanaged) * SYNC_WEIGHT;
  let passed = sync.inSync * SYNC_WEIGHT;
  for (const t of Object.values(tallies)) {
    const w = SEVERITY_WEIGHT[t.severity];
    total += t.checks * w;
    passed += (t.checks - t.failed) * w;
  }
  return { score: total === 0 ? 100 : round1((passed / total) * 100), totalWeight: total, passedWeight: passed };
}

/** Fleet score: the mean over scored clusters (null when none could be scored). */
export function fleetScore(clusters: readonly { score: number | null }[]): number | null {
  const scored = clusters.filter((c) => typeof c.score === 'number') as { score: number }[];
  if (!scored.length) return null;
  return round1(scored.reduce((s, c) => s + c.score, 0) / scored.length);
}

/** Fleet objectScore: the mean of the clusters' objectScore, as the fleet score is of theirs. */
export function fleetObjectScore(clusters: readonly { objectScore?: number | null }[]): number | null {
  return fleetScore(clusters.map((c) => ({ score: typeof c.objectScore === 'number' ? c.objectScore : null })));
}
