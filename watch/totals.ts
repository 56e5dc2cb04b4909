import type { Finding, Policy } from '../src/index.js';
import type { PolicyTally } from '../scanner/score.js';

/** What the watch keeps per object that the totals read (see state.ts). */
export interface Counted {
  readonly findings: readonly Pick<Finding, 'policy' | 'severity' | 'action'>[];
  readonly checks?: Readonly<Record<string, number>>;
  readonly waived: number;
}

/**
 * A cluster's running totals over its objects: checks per policy, objects failing each policy, findings per
 * (policy, severity, action), waivers. Updated by ±1 per object as events come, so that a score and the metrics
 * cost O(policies), not O(objects), however busy the cluster is.
 */
export class Totals {
  readonly checks = new Map<string, number>();
  /** policy → objects with at least one finding of it (a policy check of one resource that failed). */
  readonly failing = new Map<string, number>();
  readonly findings = new Map<string, { policy: string; severity: string; action: string; n: number }>();
  waived = 0;

  account(e: Counted, sign: 1 | -1): void {
    if (e.checks) for (const k in e.checks) bump(this.checks, k, sign * e.checks[k]);
    this.waived += sign * e.waived;
    if (!e.findings.length) return;
    let seen: string | Set<string> | undefined;
    const keys = keysOf(e.findings);
    for (let i = 0; i < e.findings.length; i++) {
      const f = e.findings[i];
      const key = keys[i];
      const c = this.findings.get(key) ?? { policy: f.policy, severity: f.severity, action: f.action, n: 0 };
      c.n += sign;
      if (c.n > 0) this.findings.set(key, c);
      else this.findings.delete(key);
      // count each policy once per object (most objects fail one or two policies: a string before a set)
      if (seen === f.policy || (seen instanceof Set && seen.has(f.policy))) continue;
      if (seen === undefined) seen = f.policy;
      else if (typeof seen === 'string') seen = new Set([seen, f.policy]);
      else seen.add(f.policy);
      bump(this.failing, f.policy, sign);
    }
  }

  /** Object- and namespace-scope tallies, as scan's tallyPolicies makes them from one whole evaluation. */
  objectTally(p: Policy): PolicyTally | undefined {
    const checks = this.checks.get(p.id) ?? 0;
    return checks ? { severity: p.severity, checks, failed: Math.min(this.failing.get(p.id) ?? 0, checks) } : undefined;
  }
}

/** Each finding's `policy\0severity\0action`, made once per verdict set (they are shared and frozen). */
const findingKeys = new WeakMap<Counted['findings'], string[]>();
function keysOf(findings: Counted['findings']): string[] {
  let keys = findingKeys.get(findings);
  if (!keys) findingKeys.set(findings, (keys = findings.map((f) => `${f.policy}\0${f.severity}\0${f.action}`)));
  return keys;
}

function bump(m: Map<string, number>, k: string, d: number): void {
  const n = (m.get(k) ?? 0) + d;
  if (n) m.set(k, n);
  else m.delete(k);
}
