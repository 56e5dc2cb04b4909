import { definePolicy } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';
import { service, strings } from './common.js';

const specOf = (o: { [k: string]: unknown }) => (isObject(o.spec) ? o.spec : {});

export default definePolicy({
  id: 'practices.no-loadbalancer-services',
  title: 'Services are not of type LoadBalancer outside the allowed namespaces',
  description:
    'A LoadBalancer Service provisions an external load balancer (and node ports) per Service: traffic from outside ' +
    'belongs at the ingress gateway. Allowed in system namespaces (where the gateways run) and in `allowedNamespaces` ' +
    "(globs). As the Gatekeeper library's K8sBlockLoadBalancer.",
  area: 'practices',
  severity: 'medium',
  action: 'warn',
  match: { kinds: ['Service'] },
  params: { allowedNamespaces: [] as string[] },
  validate({ object, params, report, isSystemNamespace, namespace }) {
    if (specOf(object).type !== 'LoadBalancer' || isSystemNamespace(namespace.name)) return;
    const ns = namespace.name ?? '';
    const allowed = strings(params.allowedNamespaces);
    if (allowed.some((g) => (g.endsWith('*') ? ns.startsWith(g.slice(0, -1)) : g === ns))) return;
    const where = ns ? `in namespace "${ns}"` : '(no namespace set: the one it is applied to)';
    report(`Service is of type LoadBalancer ${where}: expose it through the ingress gateway, or add the namespace to allowedNamespaces`, ['spec', 'type']);
  },
  examples: {
    pass: [
      service({}),
      { name: 'gateway in istio-system', objects: [service({ type: 'LoadBalancer' }, 'istio-ingressgateway', 'istio-system')] },
      { name: 'allowed namespace', objects: [service({ type: 'LoadBalancer' }, 'edge-lb', 'ingress-public')], params: { allowedNamespaces: ['ingress-*'] } },
    ],
    fail: [service({ type: 'LoadBalancer' }), { name: 'other namespace than allowed', objects: [service({ type: 'LoadBalancer' })], params: { allowedNamespaces: ['ingress-*'] } }],
  },
});
