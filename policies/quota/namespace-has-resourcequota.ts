import { defineClusterPolicy, tryParseQuantity } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { NAMESPACE_NAME_PATH, isObject, namespace, objectsIn, tenantNamespaces } from '../isolation/namespaces.js';

/** Each required resource and the `spec.hard` keys that bound it. */
export const REQUIRED_HARD: Record<'cpu' | 'memory' | 'pods', string[]> = {
  cpu: ['cpu', 'requests.cpu', 'limits.cpu'],
  memory: ['memory', 'requests.memory', 'limits.memory'],
  pods: ['pods'],
};

/** Whether a ResourceQuota bounds the whole namespace (no `scopes`/`scopeSelector` narrowing it to some pods). */
function isNamespaceWide(q: KubeObject): boolean {
  const spec = isObject(q.spec) ? q.spec : {};
  const scopes = Array.isArray(spec.scopes) ? spec.scopes : [];
  const sel = isObject(spec.scopeSelector) && Array.isArray(spec.scopeSelector.matchExpressions) ? spec.scopeSelector.matchExpressions : [];
  return scopes.length === 0 && sel.length === 0;
}

const quota = (ns: string, hard: Record<string, string | number>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'tenant-quota', namespace: ns },
  spec: { hard, ...extra },
});

export default defineClusterPolicy({
  id: 'quota.namespace-has-resourcequota',
  title: 'Every tenant namespace has a hard ResourceQuota on cpu, memory and pods',
  description:
    'A runaway deployment must hit its namespace quota and fail loudly instead of starving every other tenant of the cluster. ' +
    'Every tenant Namespace needs ResourceQuota `spec.hard` entries for cpu (`cpu`, `requests.cpu` or `limits.cpu`), ' +
    'memory (`memory`, `requests.memory` or `limits.memory`) and `pods`, with valid quantities. Quotas with `scopes` or ' +
    'a `scopeSelector` only bound some pods and do not count; several unscoped quotas in one namespace add up. ' +
    'The finding is on the Namespace; namespaces the inventory does not hold are not judged; system namespaces are exempt.',
  area: 'quota',
  severity: 'high',
  action: 'deny',
  scope: 'cluster',
  match: { kinds: ['Namespace', 'ResourceQuota'] },
  validate(ctx) {
    for (const ns of tenantNamespaces(ctx)) {
      const name = ns.metadata!.name!;
      const covered = new Set<string>();
      for (const q of objectsIn(ctx.inventory, '', 'ResourceQuota', name)) {
        if (!isNamespaceWide(q)) continue;
        const hard = isObject(q.spec) && isObject(q.spec.hard) ? q.spec.hard : {};
        for (const [res, keys] of Object.entries(REQUIRED_HARD))
          if (keys.some((k) => tryParseQuantity(hard[k]) !== undefined)) covered.add(res);
      }
      const missing = Object.keys(REQUIRED_HARD).filter((r) => !covered.has(r));
      if (!missing.length) continue;
      const keys = missing.map((r) => (r === 'pods' ? 'pods' : `requests.${r}/limits.${r}`)).join(', ');
      ctx.report(
        ns,
        `namespace "${name}" has no ResourceQuota with a hard limit on ${missing.join(', ')}: add a ResourceQuota in "${name}" whose spec.hard sets ${keys}`,
        [...NAMESPACE_NAME_PATH],
      );
    }
  },
  examples: {
    pass: [
      {
        name: 'quota on requests, limits and pods',
        objects: [namespace('shop'), quota('shop', { 'requests.cpu': '4', 'limits.cpu': '8', 'requests.memory': '8Gi', 'limits.memory': '16Gi', pods: '50' })],
      },
      { name: 'plain cpu / memory keys count', objects: [namespace('shop'), quota('shop', { cpu: '2', memory: '4Gi', pods: 20 })] },
      {
        name: 'two unscoped quotas add up',
        objects: [namespace('shop'), quota('shop', { 'limits.cpu': '8', 'limits.memory': '16Gi' }), { ...quota('shop', { pods: '30' }), metadata: { name: 'pods', namespace: 'shop' } }],
      },
      { name: 'system namespace is exempt', objects: [namespace('istio-system')] },
      { name: 'quota in a namespace the inventory does not hold is not judged', objects: [quota('other', {})] },
    ],
    fail: [
      { name: 'namespace without a quota', objects: [namespace('shop')] },
      { name: 'quota without pods', objects: [namespace('shop'), quota('shop', { 'requests.cpu': '4', 'requests.memory': '8Gi' })] },
      { name: 'quota limiting only object counts', objects: [namespace('shop'), quota('shop', { pods: '10', services: '5' })] },
      {
        name: 'a scoped quota (BestEffort) does not bound the namespace',
        objects: [namespace('shop'), quota('shop', { cpu: '4', memory: '8Gi', pods: '10' }, { scopes: ['NotBestEffort'] })],
      },
      { name: 'an invalid quantity is not a limit', objects: [namespace('shop'), quota('shop', { cpu: 'lots', memory: '8Gi', pods: '10' })] },
      { name: 'a quota in another namespace does not count', objects: [namespace('shop'), quota('payments', { cpu: '4', memory: '8Gi', pods: '10' })] },
    ],
  },
});
