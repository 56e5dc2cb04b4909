import type { Finding, ResourceRef } from '../src/index.js';

/** How the watch keeps findings small: shared verdict sets, interned strings and check records (watch/state.ts uses them). */

/**
 * A finding without its resource. Objects made from one template (the pods of a Deployment, the same Deployment in
 * every cluster) are found the same things: one frozen array of verdicts is shared by all of them, and the resource
 * is put back when a report is built. `resource` is set only when a finding is about another object.
 */
export type Verdict = Omit<Finding, 'resource'> & { readonly resource?: Finding['resource'] };

export const NO_FINDINGS: readonly Finding[] = Object.freeze([]);
/** Many objects count the same checks ({pss.baseline: 1, …}): share one frozen record per distinct set. */
const checksCache = new Map<string, Readonly<Record<string, number>>>();
export function internChecks(checks: Record<string, number>): Readonly<Record<string, number>> | undefined {
  const keys = Object.keys(checks);
  if (!keys.length) return undefined;
  const key = JSON.stringify(checks);
  let shared = checksCache.get(key);
  if (!shared) {
    if (checksCache.size > 10_000) checksCache.clear();
    checksCache.set(key, (shared = Object.freeze(checks)));
  }
  return shared;
}

/**
 * Findings of many objects repeat the same text ("runAsNonRoot != true (pod or container \"web\" …)", the same
 * JSONPath): one copy of each string is kept for the whole process (bounded), not one per finding.
 */
const strings = new Map<string, string>();
export function intern(s: string): string {
  const known = strings.get(s);
  if (known !== undefined) return known;
  if (strings.size > 200_000) strings.clear();
  strings.set(s, s);
  return s;
}

/** Verdict sets by content, bounded like the strings: a clear only costs sharing, never correctness. */
const verdictSets = new Map<string, readonly Verdict[]>();
const sameRef = (a: ResourceRef, b: ResourceRef) => a.name === b.name && a.namespace === b.namespace && a.kind === b.kind && a.apiVersion === b.apiVersion;

export function compact(findings: Finding[]): { findings: readonly Verdict[]; ref?: ResourceRef } {
  if (!findings.length) return { findings: NO_FINDINGS };
  const ref = findings[0].resource;
  // `resource: undefined` keeps the key's place, so a rebuilt finding has scan's key order
  const verdicts: Verdict[] = findings.map((f) => ({ ...f, message: intern(f.message), path: intern(f.path), resource: sameRef(f.resource, ref) ? undefined : f.resource }));
  const key = JSON.stringify(verdicts);
  let shared = verdictSets.get(key);
  if (!shared) {
    if (verdictSets.size > 50_000) verdictSets.clear();
    for (const v of verdicts) Object.freeze(v);
    verdictSets.set(key, (shared = Object.freeze(verdicts)));
  }
  return { findings: shared, ref };
}

