import { defineClusterPolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { NAMESPACE_NAME_PATH, isObject, namespace, objectsIn, tenantNamespaces } from '../isolation/namespaces.js';

const RESOURCES = ['cpu', 'memory'] as const;

/**
 * The defaults a LimitRange gives containers, after Kubernetes' own defaulting of `type: Container` items:
 * a resource in `max` without a `default` gets `default = max`, and a resource in `default` without a
 * `defaultRequest` gets `defaultRequest = default`.
 */
export function containerDefaults(lr: KubeObject): { limits: Set<string>; requests: Set<string> } {
  const limits = new Set<string>();
  const requests = new Set<string>();
  const items = isObject(lr.spec) && Array.isArray(lr.spec.limits) ? lr.spec.limits : [];
  for (const item of items) {
    if (!isObject(item) || item.type !== 'Container') continue;
    const keys = (v: unknown) => (isObject(v) ? Object.keys(v) : []);
    const def = new Set([...keys(item.default), ...keys(item.max)]);
    const req = new Set([...keys(item.defaultRequest), ...def]);
    for (const r of def) limits.add(r);
    for (const r of req) requests.add(r);
  }
  return { limits, requests };
}

const limitRange = (ns: string, item: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'LimitRange',
  metadata: { name: 'container-defaults', namespace: ns },
  spec: { limits: [{ type: 'Container', ...item }] },
});

export default defineClusterPolicy({
  id: 'quota.namespace-has-limitrange',
  title: 'Every tenant namespace has a LimitRange giving containers default requests and limits',
  description:
    'With a quota on cpu and memory, a container that declares no resources is either rejected or, without one, unbounded. ' +
    'A LimitRange with a `type: Container` item whose `default` (limits) and `defaultRequest` (requests) cover cpu and ' +
    'memory fills them in at admission. Kubernetes defaulting is followed: `max` stands in for a missing `default`, and ' +
    '`default` for a missing `defaultRequest`. The finding is on the Namespace; namespaces the inventory does not hold ' +
    'are not judged; system namespaces are exempt.',
  area: 'quota',
  severity: 'medium',
  action: 'warn',
  scope: 'cluster',
  match: { kinds: ['Namespace', 'LimitRange'] },
  validate(ctx) {
    for (const ns of tenantNamespaces(ctx)) {
      const name = ns.metadata!.name!;
      const limits = new Set<string>();
      const requests = new Set<string>();
      for (const lr of objectsIn(ctx.inventory, '', 'LimitRange', name)) {
        const d = containerDefaults(lr);
        d.limits.forEach((r) => limits.add(r));
        d.requests.forEach((r) => requests.add(r));
      }
      const missing = [
        ...RESOURCES.filter((r) => !requests.has(r)).map((r) => `defaultRequest.${r}`),
        ...RESOURCES.filter((r) => !limits.has(r)).map((r) => `default.${r}`),
      ];
      if (!missing.length) continue;
      ctx.report(
        ns,
        `namespace "${name}" has no LimitRange giving containers default requests and limits (missing ${missing.join(', ')}): ` +
          `add a LimitRange in "${name}" with a type: Container item setting default and defaultRequest for cpu and memory`,
        [...NAMESPACE_NAME_PATH],
      );
    }
  },
  examples: {
    pass: [
      {
        name: 'default and defaultRequest for cpu and memory',
        objects: [namespace('shop'), limitRange('shop', { default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } })],
      },
      {
        name: 'default alone also sets defaultRequest (Kubernetes defaulting)',
        objects: [namespace('shop'), limitRange('shop', { default: { cpu: '500m', memory: '512Mi' } })],
      },
      { name: 'max alone becomes default and defaultRequest', objects: [namespace('shop'), limitRange('shop', { max: { cpu: '2', memory: '2Gi' } })] },
      { name: 'system namespace is exempt', objects: [namespace('kube-node-lease')] },
    ],
    fail: [
      { name: 'namespace without a LimitRange', objects: [namespace('shop')] },
      {
        name: 'LimitRange without memory defaults',
        objects: [namespace('shop'), limitRange('shop', { default: { cpu: '500m' }, defaultRequest: { cpu: '100m' } })],
      },
      {
        name: 'a Pod-type item gives containers no defaults',
        objects: [
          namespace('shop'),
          { ...limitRange('shop', {}), spec: { limits: [{ type: 'Pod', max: { cpu: '4', memory: '4Gi' } }] } },
        ],
      },
      { name: 'only min bounds, no defaults', objects: [namespace('shop'), limitRange('shop', { min: { cpu: '10m', memory: '16Mi' } })] },
    ],
  },
});
