import { definePolicy } from '../../src/index.js';
import { pod as podOf } from '../_shared/examples.js';

const pod = (spec: Record<string, unknown>, namespace = 'shop') =>
  podOf({ containers: [{ name: 'app', image: 'registry.example/app:1.0' }], ...spec }, { name: 'app', namespace });

const WHAT: Record<'hostNetwork' | 'hostPID' | 'hostIPC', string> = {
  hostNetwork: "the node's network stack (every port and interface on the node)",
  hostPID: "the node's process table (every process on the node)",
  hostIPC: "the node's IPC namespace (shared memory of every process on the node)",
};

export default definePolicy({
  id: 'isolation.no-host-namespaces',
  title: 'Pods do not share the host network, PID or IPC namespace',
  description:
    'A pod with hostNetwork, hostPID or hostIPC sees (and can reach) everything on the node, which breaks tenant isolation. ' +
    'Remove the field (or set it to false). Node agents belong in a system namespace, or are waived with a PolicyException. ' +
    'Applies to Pods and to the pod templates of every pod controller; system namespaces are exempt.',
  area: 'isolation',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['Pod'] },
  // Both flag hostNetwork/hostPID/hostIPC: reports show one finding per field (src/dedupe.ts).
  sameFindingAs: ['pss.baseline.host-namespaces'],
  validate({ pod, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
      if (pod.spec[field] === true)
        report(`pod sets ${field}: true and so shares ${WHAT[field]}; remove ${field} or set it to false`, pod.path(field));
    }
  },
  examples: {
    pass: [
      pod({}),
      pod({ hostNetwork: false, hostPID: false, hostIPC: false }),
      { name: 'node agent in kube-system is exempt', objects: [pod({ hostNetwork: true, hostPID: true }, 'kube-system')] },
      {
        name: 'node agent in a namespace labelled fleetgate.io/system is exempt',
        objects: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'node-agents', labels: { 'fleetgate.io/system': 'true' } } },
          pod({ hostNetwork: true }, 'node-agents'),
        ],
      },
    ],
    fail: [
      pod({ hostPID: true }),
      pod({ hostIPC: true }),
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'agent', namespace: 'monitoring' },
        spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'agent', image: 'agent:1' }] } } },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'log-shipper', namespace: 'shop' },
        spec: { template: { spec: { hostPID: true, containers: [{ name: 'shipper', image: 'shipper:2' }] } } },
      },
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'debug', namespace: 'shop' },
        spec: {
          schedule: '0 * * * *',
          jobTemplate: { spec: { template: { spec: { hostNetwork: true, containers: [{ name: 'dbg', image: 'busybox:1.36' }] } } } },
        },
      },
    ],
  },
});
