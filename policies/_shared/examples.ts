import type { KubeObject } from '../../src/index.js';

/**
 * Builders of the objects the packs' examples are made of (a policy's `examples` are also its tests), in one place
 * so that every pack writes a Namespace or a Pod the same way. Rules never use them.
 */

type Labels = Record<string, string>;

/** A core v1 Namespace, with these labels when given. */
export function namespace(name: string, labels?: Labels): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: labels ? { name, labels } : { name } };
}

/** A core v1 Pod with this spec: named `web` in namespace `shop` unless `meta` says otherwise. */
export function pod(spec: Record<string, unknown>, meta: { name?: string; namespace?: string; labels?: Labels } = {}): KubeObject {
  const { name = 'web', namespace = 'shop', labels } = meta;
  return { apiVersion: 'v1', kind: 'Pod', metadata: labels ? { name, namespace, labels } : { name, namespace }, spec };
}
