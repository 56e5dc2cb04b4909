import { toJsonPath } from '../authoring/index.js';
import { refOf, type Finding, type PathSegments, type Resource } from '../model/index.js';
import type { BoundPolicy } from './bind.js';
import { noteFindingImage } from './exceptions.js';

/** How the engine writes a finding: the policy's id, severity and action in this cluster, and where it points. */
export function findingOf(bound: BoundPolicy, r: Resource, ref: Finding['resource'], message: string, path: PathSegments): Finding {
  const f: Finding = {
    policy: bound.policy.id,
    severity: bound.policy.severity,
    action: bound.action,
    message,
    resource: ref,
    path: toJsonPath(path),
  };
  const source = r.locate?.(path);
  if (source) f.source = source;
  noteFindingImage(f, r.object, path); // for image-scoped exceptions
  return f;
}

/** A policy that threw: a finding of that policy marked as an error. */
export function errorFindingOf(bound: BoundPolicy, r: Resource, ref: Finding['resource'], err: unknown): Finding {
  const why = err instanceof Error ? err.message : String(err);
  const f = findingOf(bound, r, ref, `policy error: ${why}`, []);
  f.error = true;
  return f;
}

/** A finding of the engine's own (an invalid or expired waiver), on the object `r`. */
export function metaFindingOf(r: Resource, id: string, message: string, path: PathSegments = []): Finding {
  const f: Finding = { policy: id, severity: 'medium', action: 'warn', message, resource: refOf(r.object), path: toJsonPath(path) };
  const source = r.locate?.(path);
  if (source) f.source = source;
  return f;
}
