import type { KubeObject, PathSegments } from '../../src/index.js';
import { compareMinor, parseMinor, removalOf, targetOf, type ApiRemoval } from './api-table.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

export interface ApiUse {
  row: ApiRemoval;
  /** Where the apiVersion was read: the object itself, or the manifest kubectl last applied. */
  where: 'object' | 'last-applied';
  path: PathSegments;
}

/**
 * The deprecated-API rows an object uses: its own apiVersion and, on a live object, the apiVersion of the manifest
 * recorded in `kubectl.kubernetes.io/last-applied-configuration`. The API server serves a stored object in any
 * version it still knows, so a live Deployment read as apps/v1 may have been applied as extensions/v1beta1 from a
 * manifest that will fail on the next `kubectl apply` after the upgrade.
 */
export function apiUses(object: KubeObject): ApiUse[] {
  const out: ApiUse[] = [];
  const kind = typeof object.kind === 'string' ? object.kind : '';
  const own = typeof object.apiVersion === 'string' ? removalOf(object.apiVersion, kind) : undefined;
  if (own) out.push({ row: own, where: 'object', path: ['apiVersion'] });
  const annotations = object.metadata?.annotations;
  const raw = annotations && typeof annotations === 'object' ? (annotations as Record<string, unknown>)[LAST_APPLIED] : undefined;
  if (typeof raw === 'string' && raw.length < 1_000_000) {
    let applied: unknown;
    try {
      applied = JSON.parse(raw);
    } catch {
      applied = undefined; // not kubectl's JSON: nothing to judge (the annotation is informational)
    }
    const a = applied as { apiVersion?: unknown; kind?: unknown } | undefined;
    if (a && typeof a.apiVersion === 'string' && a.apiVersion !== object.apiVersion) {
      const row = removalOf(a.apiVersion, typeof a.kind === 'string' ? a.kind : kind);
      if (row) out.push({ row, where: 'last-applied', path: ['metadata', 'annotations', LAST_APPLIED] });
    }
  }
  return out;
}

export type Status = 'removed' | 'deprecated' | 'fine';

/**
 * What a row means at a target release: removed (not served), deprecated (served, and its replacement is already
 * available, so migrating now is possible and needed before `removedIn`), or fine (the replacement does not exist yet).
 */
export function statusAt(row: ApiRemoval, target: [number, number]): Status {
  if (compareMinor(target, parseMinor(row.removedIn)!) >= 0) return 'removed';
  if (!row.availableSince || compareMinor(target, parseMinor(row.availableSince)!) >= 0) return 'deprecated';
  return 'fine';
}

export function describeUse(use: ApiUse, kind: string, status: Status, targetText: string): string {
  const { row } = use;
  const subject = use.where === 'object' ? `${kind} uses ${row.apiVersion}` : `${kind} was last applied as ${row.apiVersion} (kubectl's last-applied-configuration)`;
  const when =
    status === 'removed'
      ? `which Kubernetes ${row.removedIn} and later no longer serve (target ${targetText})`
      : `which is deprecated and no longer served from Kubernetes ${row.removedIn} (target ${targetText})`;
  const then = use.where === 'object' ? '' : status === 'removed' ? ', so re-applying that manifest fails' : ', so that manifest must change';
  const fix = row.replacement ? `migrate to ${row.replacement}${row.availableSince ? ` (available since ${row.availableSince})` : ''}` : 'there is no replacement';
  return `${subject}, ${when}${then}: ${fix}${row.note ? `; ${row.note}` : ''}`;
}

export { targetOf };
