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

export function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

/** Per-policy checks and failures in one cluster. */
export function tallyPolicies(
  policies: readonly Policy[],
  engine: Pick<Evaluator, 'labels' | 'isSystemNamespace'>,
  evaluation: Evaluation,
  inventory: readonly KubeObject[],
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
  }
  return out;
}

function findingIdentity(f: Finding): string {
  return identityOf({ apiVersion: f.resource.apiVersion, kind: f.resource.kind, metadata: { name: f.resource.name, namespace: f.resource.namespace } });
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
