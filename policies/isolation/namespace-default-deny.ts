import { defineClusterPolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { NAMESPACE_NAME_PATH, isEmptySelector, isObject, namespace, objectsIn, tenantNamespaces } from './namespaces.js';

type Direction = 'Ingress' | 'Egress';

/**
 * The directions a NetworkPolicy denies for every pod of its namespace: it selects all pods (`podSelector: {}`),
 * its effective policyTypes include the direction, and it has no rule for that direction. Effective policyTypes
 * follow Kubernetes: when unset, Ingress always, and Egress only if the policy has an `egress` section.
 */
export function deniedDirections(np: KubeObject): Direction[] {
  const spec = isObject(np.spec) ? np.spec : {};
  if (!isEmptySelector(spec.podSelector)) return [];
  const types: string[] = Array.isArray(spec.policyTypes)
    ? spec.policyTypes.filter((t): t is string => typeof t === 'string')
    : ['Ingress', ...(spec.egress !== undefined ? ['Egress'] : [])];
  const noRules = (rules: unknown) => rules === undefined || rules === null || (Array.isArray(rules) && rules.length === 0);
  const out: Direction[] = [];
  if (types.includes('Ingress') && noRules(spec.ingress)) out.push('Ingress');
  if (types.includes('Egress') && noRules(spec.egress)) out.push('Egress');
  return out;
}

const np = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name, namespace: ns },
  spec,
});

export default defineClusterPolicy({
  id: 'isolation.namespace-default-deny',
  title: 'Every tenant namespace has a default-deny NetworkPolicy for ingress and egress',
  description:
    'Tenant namespaces are isolation boundaries: without a baseline NetworkPolicy that selects every pod (`podSelector: {}`) ' +
    'and allows nothing, any pod can reach (and be reached by) every other tenant. Add a NetworkPolicy with ' +
    '`podSelector: {}`, `policyTypes: [Ingress, Egress]` and no rules (or two policies, one per direction), then allow ' +
    'the traffic the workloads need with further policies. The finding is on the Namespace; namespaces the inventory ' +
    'does not hold are not judged, and system namespaces are exempt.',
  area: 'isolation',
  severity: 'high',
  action: 'deny',
  scope: 'cluster',
  match: { kinds: ['Namespace', 'networking.k8s.io/NetworkPolicy'] },
  validate(ctx) {
    for (const ns of tenantNamespaces(ctx)) {
      const name = ns.metadata!.name!;
      const denied = new Set<Direction>();
      for (const p of objectsIn(ctx.inventory, 'networking.k8s.io', 'NetworkPolicy', name))
        for (const d of deniedDirections(p)) denied.add(d);
      const missing = (['Ingress', 'Egress'] as const).filter((d) => !denied.has(d));
      if (!missing.length) continue;
      const what = missing.join(' and ');
      ctx.report(
        ns,
        `namespace "${name}" has no default-deny NetworkPolicy for ${what}: add a NetworkPolicy in "${name}" with ` +
          `podSelector: {}, policyTypes: [${missing.join(', ')}] and no ${missing.map((d) => d.toLowerCase()).join('/')} rules`,
        [...NAMESPACE_NAME_PATH],
      );
    }
  },
  examples: {
    pass: [
      {
        name: 'one policy denying both directions',
        objects: [namespace('shop'), np('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
      },
      {
        name: 'default-deny split over two policies, plus an allow policy',
        objects: [
          namespace('shop'),
          np('shop', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] }),
          np('shop', 'deny-egress', { podSelector: {}, policyTypes: ['Egress'], egress: [] }),
          np('shop', 'allow-web', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ ports: [{ port: 8080 }] }] }),
        ],
      },
      {
        name: 'policyTypes unset: an empty egress section makes it deny Egress too',
        objects: [namespace('shop'), np('shop', 'default-deny', { podSelector: {}, ingress: [], egress: [] })],
      },
      { name: 'system namespace is exempt', objects: [namespace('kube-system')] },
      { name: 'namespace labelled fleetgate.io/system is exempt', objects: [namespace('monitoring', { 'fleetgate.io/system': 'true' })] },
      {
        name: 'namespaces the inventory does not hold are not judged',
        objects: [np('elsewhere', 'allow-all', { podSelector: {}, ingress: [{}] })],
      },
    ],
    fail: [
      { name: 'namespace without any NetworkPolicy', objects: [namespace('shop')] },
      {
        name: 'only ingress is denied',
        objects: [namespace('shop'), np('shop', 'deny-ingress', { podSelector: {}, policyTypes: ['Ingress'] })],
      },
      {
        name: 'policyTypes unset and no egress section: Egress is not covered',
        objects: [namespace('shop'), np('shop', 'default-deny', { podSelector: {} })],
      },
      {
        name: 'a policy selecting only some pods is not a default-deny',
        objects: [
          namespace('shop'),
          np('shop', 'deny-web', { podSelector: { matchLabels: { app: 'web' } }, policyTypes: ['Ingress', 'Egress'] }),
        ],
      },
      {
        name: 'a policy that allows all ingress is not a default-deny',
        objects: [namespace('shop'), np('shop', 'allow-all', { podSelector: {}, policyTypes: ['Ingress', 'Egress'], ingress: [{}] })],
      },
      {
        name: 'a default-deny in another namespace does not count',
        objects: [namespace('shop'), np('payments', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] })],
      },
    ],
  },
});
