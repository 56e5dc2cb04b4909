import { definePolicy } from '../../src/index.js';

const pod = (spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'app', namespace: 'shop' },
  spec: { containers: [{ name: 'app', image: 'registry.example/app:1.0' }], ...spec },
});

export default definePolicy({
  id: 'isolation.no-host-namespaces',
  title: 'Pods do not share the host network, PID or IPC namespace',
  description:
    'A pod with hostNetwork, hostPID or hostIPC sees (and can reach) everything on the node, which breaks tenant isolation. Remove the field, or waive the workload with a PolicyException if it is a node agent.',
  area: 'isolation',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['Pod'] },
  validate({ pod, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
      if (pod.spec[field] === true) report(`pod sets ${field}: true`, pod.path(field));
    }
  },
  examples: {
    pass: [pod({}), pod({ hostNetwork: false })],
    fail: [
      pod({ hostPID: true }),
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'agent', namespace: 'monitoring' },
        spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'agent', image: 'agent:1' }] } } },
      },
    ],
  },
});
