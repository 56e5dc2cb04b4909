import type { KubeObject, ResourceRef } from './types.js';

/** `networking.istio.io/v1beta1` → `networking.istio.io`; `v1` → `` (the core group). */
export function groupOf(apiVersion: string | undefined): string {
  if (!apiVersion) return '';
  const slash = apiVersion.indexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

export function refOf(obj: KubeObject): ResourceRef {
  const ref: ResourceRef = {
    apiVersion: typeof obj.apiVersion === 'string' ? obj.apiVersion : '',
    kind: typeof obj.kind === 'string' ? obj.kind : '',
    name: nameOf(obj),
  };
  const ns = obj.metadata?.namespace;
  if (typeof ns === 'string' && ns) ref.namespace = ns;
  return ref;
}

export function nameOf(obj: KubeObject): string {
  const m = obj.metadata;
  if (m && typeof m.name === 'string') return m.name;
  if (m && typeof m.generateName === 'string') return `${m.generateName}*`;
  return '';
}

/** Identity of an object across sources: group, kind, namespace, name (version is not part of identity). */
export function identityOf(obj: KubeObject): string {
  const ns = obj.metadata?.namespace ?? '';
  return `${groupOf(obj.apiVersion)}/${obj.kind ?? ''}/${ns}/${nameOf(obj)}`;
}

/** Human label used in reports: `Deployment shop/frontend`, `Namespace/payments`. */
export function describeRef(ref: ResourceRef): string {
  return ref.namespace ? `${ref.kind} ${ref.namespace}/${ref.name}` : `${ref.kind}/${ref.name}`;
}

export function labelsOf(obj: KubeObject | undefined): Record<string, string> {
  const l = obj?.metadata?.labels;
  return l && typeof l === 'object' ? l : {};
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Namespaces that are never tenant namespaces, unless the policy parameter says otherwise. */
export const DEFAULT_SYSTEM_NAMESPACES: readonly string[] = [
  'kube-system',
  'kube-public',
  'kube-node-lease',
  'istio-system',
  'fleetgate-system',
];

export const SYSTEM_NAMESPACE_LABEL = 'fleetgate.io/system';
