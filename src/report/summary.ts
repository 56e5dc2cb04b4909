import type { Action, Finding, InputError, Severity } from '../model/index.js';
import { SEVERITY_RANK } from '../model/index.js';
import type { LintFleetSection } from './fleet.js';

export interface Summary {
  files: number;
  objects: number;
  /** Documents that were not Kubernetes objects. */
  skipped: number;
  findings: number;
  errors: number;
  waived: number;
  /** Objects a policy's exemption (Pod Security's exempt namespaces, users, runtime classes) kept out: counted, not reported. */
  exempt: number;
  bySeverity: Record<Severity, number>;
  byAction: Record<Action, number>;
  byPolicy: Record<string, number>;
  /** Clusters judged (`lint --fleet`). */
  clusters?: number;
  /** Fleet-scope rules: what they found over `lint --fleet`'s clusters, or that plain lint skipped them. */
  fleetRules?: LintFleetSection;
}

export interface LintReport {
  findings: Finding[];
  errors: InputError[];
  summary: Summary;
}

export function summarize(
  findings: Iterable<Finding>,
  errors: readonly InputError[],
  counts: { files: number; objects: number; skipped: number; waived: number; exempt?: number },
): Summary {
  const bySeverity: Record<Severity, number> = { critical: 0, high: 0, medium: 0, low: 0 };
  const byAction: Record<Action, number> = { deny: 0, warn: 0, audit: 0 };
  const byPolicy: Record<string, number> = {};
  let n = 0;
  for (const f of findings) {
    n++;
    bySeverity[f.severity]++;
    byAction[f.action]++;
    byPolicy[f.policy] = (byPolicy[f.policy] ?? 0) + 1;
  }
  return { ...counts, exempt: counts.exempt ?? 0, findings: n, errors: errors.length, bySeverity, byAction, byPolicy };
}

/** Whether findings fail the run: action deny or warn at or above the severity threshold (`never`: nothing fails). */
export function failsThreshold(findings: Iterable<Finding>, failOn: Severity | 'never'): boolean {
  if (failOn === 'never') return false;
  const min = SEVERITY_RANK[failOn];
  for (const f of findings) if (f.action !== 'audit' && SEVERITY_RANK[f.severity] >= min) return true;
  return false;
}

/** Stable order for every report: by file and line, then resource, then policy. */
export function sortFindings(findings: Finding[]): Finding[] {
  return findings.sort(compareFindings);
}

/**
 * The order of sortFindings. Most findings of a run come in runs on one object and share its `resource`: when both
 * do, the resource's three comparisons are skipped (a third of a scan's sort).
 */
export function compareFindings(a: Finding, b: Finding): number {
  const sa = a.source;
  const sb = b.source;
  if (sa !== undefined || sb !== undefined) {
    const c = cmp(sa?.file ?? '', sb?.file ?? '') || (sa?.line ?? 0) - (sb?.line ?? 0) || (sa?.column ?? 0) - (sb?.column ?? 0);
    if (c) return c;
  }
  const ra = a.resource;
  const rb = b.resource;
  if (ra !== rb) {
    const c = cmp(ra.kind, rb.kind) || cmp(ra.namespace ?? '', rb.namespace ?? '') || cmp(ra.name, rb.name);
    if (c) return c;
  }
  return cmp(a.policy, b.policy) || cmp(a.path, b.path);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
