import { getAt, matchesConditions, type LabelConditions } from '../authoring/index.js';
import { groupOf, isPlainObject, refOf } from '../model/index.js';
import { globToRegExp } from '../model/index.js';
import type { Finding, KubeObject, PathSegments, ResourceRef } from '../model/index.js';

/**
 * Waivers, kept in the config repo as objects of their own so they are reviewed like any change:
 *
 *   apiVersion: fleetgate.io/v1alpha1
 *   kind: PolicyException
 *   metadata: { name: node-exporter-host-network }
 *   spec:
 *     policies: [isolation.no-host-namespaces]          # ids or globs (`pss.restricted.*`)
 *     resources: [{ kind: DaemonSet, namespace: monitoring, name: node-exporter }]   # globs allowed
 *     # or image-scoped: [{ images: ["registry.example/vetted/node-exporter:*"] }] waives only the findings about a
 *     # container running a matching image (with kind/namespace/name too when given), not the rest of its namespace
 *     clusters: { region: europe }                      # optional cluster label conditions
 *     expires: "2027-03-31"                             # required; the day after, the waiver stops applying
 *     reason: node-exporter needs the host network to read host metrics
 */

export const EXCEPTION_GROUP = 'fleetgate.io';
export const EXCEPTION_KIND = 'PolicyException';

export interface PolicyException {
  name: string;
  policies: RegExp[];
  resources: { kind?: RegExp; namespace?: RegExp; name?: RegExp; images?: RegExp[] }[];
  clusters?: LabelConditions;
  /** End of the waiver: it applies up to and including this day (UTC). */
  expires: Date;
  expiresText: string;
  reason: string;
  /** The object it was read from, so that an expired or invalid waiver is reported on it. */
  object: KubeObject;
}

export function isExceptionObject(obj: KubeObject): boolean {
  return obj.kind === EXCEPTION_KIND && groupOf(obj.apiVersion) === EXCEPTION_GROUP;
}

/** Parses a PolicyException object; returns a string saying what is wrong when it is unusable. */
export function parseException(obj: KubeObject): PolicyException | string {
  const spec = obj.spec;
  if (!isPlainObject(spec)) return 'spec is missing';
  const policies = spec.policies;
  if (!Array.isArray(policies) || policies.length === 0 || !policies.every((p) => typeof p === 'string'))
    return 'spec.policies must list policy ids';
  const resources = spec.resources;
  if (!Array.isArray(resources) || resources.length === 0 || !resources.every(isPlainObject))
    return 'spec.resources must list at least one {kind, namespace, name} or {images} matcher';
  for (const r of resources as Record<string, unknown>[]) {
    if (r.images !== undefined && (!Array.isArray(r.images) || !r.images.length || !r.images.every((i) => typeof i === 'string' && i)))
      return 'spec.resources[].images must list image names or globs (`registry.example/app:*`)';
  }
  if (typeof spec.reason !== 'string' || !spec.reason.trim()) return 'spec.reason is required';
  const expiresText = spec.expires instanceof Date ? spec.expires.toISOString().slice(0, 10) : spec.expires;
  if (typeof expiresText !== 'string' || !/^\d{4}-\d{2}-\d{2}/.test(expiresText))
    return 'spec.expires must be a date (YYYY-MM-DD)';
  const day = new Date(`${expiresText.slice(0, 10)}T00:00:00Z`);
  if (Number.isNaN(day.getTime())) return `spec.expires "${expiresText}" is not a valid date`;
  const clusters = spec.clusters;
  if (clusters !== undefined && !isPlainObject(clusters)) return 'spec.clusters must be a map of cluster labels';
  const opt = (v: unknown) => (typeof v === 'string' && v ? globToRegExp(v) : undefined);
  return {
    name: refOf(obj).name,
    policies: (policies as string[]).map(globToRegExp),
    resources: (resources as Record<string, unknown>[]).map((r) => ({
      kind: opt(r.kind),
      namespace: opt(r.namespace),
      name: opt(r.name),
      images: Array.isArray(r.images) ? (r.images as string[]).map(globToRegExp) : undefined,
    })),
    clusters: clusters as LabelConditions | undefined,
    expires: new Date(day.getTime() + 24 * 3600 * 1000),
    expiresText: expiresText.slice(0, 10),
    reason: spec.reason,
    object: obj,
  };
}

export function isExpired(e: PolicyException, now: Date): boolean {
  return now.getTime() >= e.expires.getTime();
}

/**
 * Whether an (unexpired) exception waives this policy on this resource in a cluster with these labels. `image` is the
 * image of the container the finding is about (see imageOfFinding); an image-scoped matcher needs it to match.
 */
export function waives(e: PolicyException, policy: string, ref: ResourceRef, clusterLabels: Record<string, string>, image?: string): boolean {
  if (!e.policies.some((p) => p.test(policy))) return false;
  if (!matchesConditions(clusterLabels, e.clusters)) return false;
  return e.resources.some(
    (r) =>
      (!r.kind || r.kind.test(ref.kind)) &&
      (!r.namespace || r.namespace.test(ref.namespace ?? '')) &&
      (!r.name || r.name.test(ref.name)) &&
      (!r.images || (image !== undefined && r.images.some((i) => i.test(image)))),
  );
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);
/**
 * The image of the container a finding points into, noted by the engine when it made the finding: on the finding
 * itself, under a symbol and not enumerable (reports, JSON, copies and worker messages never see it; a copy, as with
 * a table keyed by the finding, has none). A process-wide WeakMap did this before: its table's capacity followed the
 * findings made between two full collections (~2 MiB at 847 clusters, issue #17).
 */
const FINDING_IMAGE = Symbol('fleetgate.findingImage');

/** Notes the image of the container `path` points into (`…spec.containers[2]…`), if it does. */
export function noteFindingImage(f: Finding, object: KubeObject, path: PathSegments): void {
  for (let i = 0; i + 1 < path.length; i++) {
    if (typeof path[i] !== 'string' || !CONTAINER_LISTS.has(path[i] as string) || typeof path[i + 1] !== 'number') continue;
    const container = getAt(object, path.slice(0, i + 2));
    if (isPlainObject(container) && typeof container.image === 'string') Object.defineProperty(f, FINDING_IMAGE, { value: container.image, configurable: true });
    return;
  }
}

export function imageOfFinding(f: Finding): string | undefined {
  return (f as Finding & { [FINDING_IMAGE]?: string })[FINDING_IMAGE];
}
