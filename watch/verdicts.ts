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
const checksCache = new Map<number, Readonly<Record<string, number>>[]>();
let checksCached = 0;
export function internChecks(checks: Record<string, number>): Readonly<Record<string, number>> | undefined {
  let h = 0;
  let n = 0;
  for (const k in checks) {
    h = mix(mix(h, hashString(k)), checks[k] | 0);
    n++;
  }
  if (!n) return undefined;
  const bucket = checksCache.get(h);
  const known = bucket?.find((c) => sameRecord(c, checks));
  if (known) return known;
  if (checksCached > 10_000) {
    checksCache.clear();
    checksCached = 0;
  }
  const shared = Object.freeze(checks);
  if (bucket && checksCache.has(h)) bucket.push(shared);
  else checksCache.set(h, [shared]);
  checksCached++;
  return shared;
}

/** Same keys in the same order, same values: what JSON.stringify of both would tell, without the strings. */
function sameRecord(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) if (ka[i] !== kb[i] || !sameValue(a[ka[i]], b[kb[i]])) return false;
  return true;
}

/** JSON-like values compared as their JSON text would be (key order included; undefined and a missing key alike at the top level of a record only by key list). */
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameValue(a[i], b[i])) return false;
    return true;
  }
  return !Array.isArray(b) && sameRecord(a as Record<string, unknown>, b as Record<string, unknown>);
}

const mix = (h: number, x: number) => (Math.imul(h ^ x, 0x9e3779b1) + 0x7f4a7c15) | 0;
function hashString(s: string): number {
  let h = s.length;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h;
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

/** Verdict sets by a hash of their content, bounded like the strings: a clear only costs sharing, never correctness. */
const verdictSets = new Map<number, (readonly Verdict[])[]>();
let verdictSetsKept = 0;
const sameRef = (a: ResourceRef, b: ResourceRef) => a.name === b.name && a.namespace === b.namespace && a.kind === b.kind && a.apiVersion === b.apiVersion;

/** A hash of what a finding says, without its resource when it is the object's own. */
function hashFinding(f: Finding, ref: ResourceRef): number {
  let h = mix(mix(mix(hashString(f.policy), hashString(f.message)), hashString(f.path)), mix(hashString(f.severity), hashString(f.action)));
  if (!sameRef(f.resource, ref)) h = mix(h, hashString(f.resource.name));
  return h;
}

/** Whether a kept verdict is what `f` would be made into (compared field by field, key order included). */
function isVerdictOf(v: Verdict, f: Finding, ref: ResourceRef): boolean {
  const kv = keysOf(v);
  let i = 0;
  for (const k in f) {
    if (kv[i++] !== k) return false;
    if (k === 'resource') {
      if (v.resource === undefined ? !sameRef(f.resource, ref) : sameRef(f.resource, ref) || !sameRef(v.resource, f.resource)) return false;
    } else if (!sameValue((v as Record<string, unknown>)[k], (f as unknown as Record<string, unknown>)[k])) return false;
  }
  return i === kv.length;
}

/** A kept verdict's keys, listed once (it is frozen). */
const verdictKeys = new WeakMap<Verdict, readonly string[]>();
function keysOf(v: Verdict): readonly string[] {
  let keys = verdictKeys.get(v);
  if (!keys) verdictKeys.set(v, (keys = Object.keys(v)));
  return keys;
}

export function compact(findings: Finding[]): { findings: readonly Verdict[]; ref?: ResourceRef } {
  if (!findings.length) return { findings: NO_FINDINGS };
  const ref = findings[0].resource;
  let h = findings.length;
  for (const f of findings) h = mix(h, hashFinding(f, ref));
  const bucket = verdictSets.get(h);
  const known = bucket?.find((set) => set.length === findings.length && set.every((v, i) => isVerdictOf(v, findings[i], ref)));
  if (known) return { findings: known, ref };
  // `resource: undefined` keeps the key's place, so a rebuilt finding has scan's key order
  const verdicts: Verdict[] = findings.map((f) => Object.freeze({ ...f, message: intern(f.message), path: intern(f.path), resource: sameRef(f.resource, ref) ? undefined : f.resource }));
  if (verdictSetsKept > 50_000) {
    verdictSets.clear();
    verdictSetsKept = 0;
  }
  const shared = Object.freeze(verdicts);
  if (bucket && verdictSets.has(h)) bucket.push(shared);
  else verdictSets.set(h, [shared]);
  verdictSetsKept++;
  return { findings: shared, ref };
}
