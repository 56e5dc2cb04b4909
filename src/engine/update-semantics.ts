import type { Policy } from '../authoring/index.js';
import { isPlainObject, type Finding, type KubeObject, type Operation } from '../model/index.js';

/**
 * Admission semantics shared by every entry point (DESIGN: "Admission semantics shared by every entry point"), so
 * that moving a policy from audit to deny never blocks the day-to-day life of objects that were already there:
 *
 * - UPDATE of a Pod is judged only when significant, as upstream pod-security-admission decides it
 *   (`isSignificantPodUpdate`): the number of containers or init containers, an image, or an ephemeral container
 *   added or re-imaged. Labels, annotations, finalizers, status: never judged.
 * - Existing violations may be updated: on UPDATE, a deny finding the old object already had (same policy, same
 *   path, same message) becomes a warning that names the policy, unless the policy sets
 *   `allowExistingViolations: false`. New or changed violations are denied.
 * - DELETE is never denied by an object policy: its deny findings become warnings.
 *
 * The engine calls `skipsUpdate` before judging an object and `settle` on the findings of one object; lint and
 * scan evaluate as CREATE, where neither changes anything.
 */

type Containers = unknown[] | undefined;

const list = (spec: Record<string, unknown>, key: string): Containers => (Array.isArray(spec[key]) ? (spec[key] as unknown[]) : undefined);
const imageOf = (c: unknown): unknown => (isPlainObject(c) ? c.image : undefined);
const nameOf = (c: unknown): unknown => (isPlainObject(c) ? c.name : undefined);
const specOf = (pod: KubeObject): Record<string, unknown> => (isPlainObject(pod.spec) ? pod.spec : {});

/** Upstream's isSignificantPodUpdate (pod-security-admission/admission/admission.go), on plain objects. */
export function isSignificantPodUpdate(pod: KubeObject, oldPod: KubeObject): boolean {
  const spec = specOf(pod);
  const old = specOf(oldPod);
  for (const key of ['containers', 'initContainers']) {
    const now = list(spec, key) ?? [];
    const before = list(old, key) ?? [];
    if (now.length !== before.length) return true;
    for (let i = 0; i < now.length; i++) if (imageOf(now[i]) !== imageOf(before[i])) return true;
  }
  const oldEphemeral = list(old, 'ephemeralContainers') ?? [];
  for (const c of list(spec, 'ephemeralContainers') ?? []) {
    const oc = oldEphemeral.find((o) => nameOf(o) === nameOf(c));
    if (oc === undefined) return true; // ephemeral container added
    if (imageOf(c) !== imageOf(oc)) return true;
  }
  return false;
}

export interface AdmissionInput {
  operation?: Operation;
  object: KubeObject;
  oldObject?: KubeObject;
}

/** Whether an UPDATE needs no judging at all: a core Pod whose update is not significant. */
export function skipsUpdate({ operation, object, oldObject }: AdmissionInput): boolean {
  if (operation !== 'UPDATE' || !oldObject || object.kind !== 'Pod' || object.apiVersion !== 'v1') return false;
  return !isSignificantPodUpdate(object, oldObject);
}

const key = (f: Finding) => `${f.policy}\u0000${f.path}\u0000${f.message}`;

/**
 * The findings of one object after UPDATE/DELETE semantics. `oldFindings` judges the old object (called only when
 * an UPDATE has a deny finding to compare); `policyOf` finds a finding's policy (for `allowExistingViolations`).
 */
export function settle(
  findings: Finding[],
  input: AdmissionInput,
  oldFindings: () => readonly Finding[],
  policyOf: (id: string) => Policy | undefined,
): Finding[] {
  const { operation } = input;
  // Findings are fresh objects of this evaluation: changed in place, so what the engine noted about them stays.
  if (operation === 'DELETE') {
    for (const f of findings)
      if (f.action === 'deny' && !f.error && policyOf(f.policy)?.scope !== 'cluster') {
        f.action = 'warn';
        f.message = `${f.message} (DELETE is never denied by an object policy)`;
      }
    return findings;
  }
  if (operation !== 'UPDATE' || !input.oldObject || !findings.some((f) => f.action === 'deny' && !f.error)) return findings;
  let before: Set<string> | undefined;
  for (const f of findings) {
    if (f.action !== 'deny' || f.error || policyOf(f.policy)?.allowExistingViolations === false) continue;
    before ??= new Set(oldFindings().map(key));
    if (!before.has(key(f))) continue;
    f.action = 'warn';
    f.message = `${f.message} (already violated before this update, so not denied: fix it to comply with ${f.policy})`;
  }
  return findings;
}
