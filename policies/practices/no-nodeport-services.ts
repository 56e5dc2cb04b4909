import { definePolicy } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';
import { service } from './common.js';

const specOf = (o: { [k: string]: unknown }) => (isObject(o.spec) ? o.spec : {});

export default definePolicy({
  id: 'practices.no-nodeport-services',
  title: 'Services are not of type NodePort',
  description:
    'A NodePort Service opens the same port on every node of the cluster, around the mesh, the ingress gateway and ' +
    "any NetworkPolicy of the node's network. Use a ClusterIP Service behind the ingress gateway. As the Gatekeeper " +
    "library's K8sBlockNodePort; system namespaces are exempt.",
  area: 'practices',
  severity: 'medium',
  action: 'warn',
  match: { kinds: ['Service'] },
  validate({ object, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    if (specOf(object).type === 'NodePort') report('Service is of type NodePort, which opens its port on every node: use ClusterIP behind the ingress gateway', ['spec', 'type']);
  },
  examples: {
    pass: [service({}), service({ type: 'ClusterIP' }), { name: 'system namespace', objects: [service({ type: 'NodePort' }, 'dns', 'kube-system')] }],
    fail: [service({ type: 'NodePort' }), service({ type: 'NodePort', ports: [{ port: 80, nodePort: 30080 }] })],
  },
});
