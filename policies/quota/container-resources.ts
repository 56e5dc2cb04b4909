import { definePolicy, isQuantity } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { pod as podOf } from '../_shared/examples.js';

const full = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } };

const pod = (containers: Record<string, unknown>[], extra: Record<string, unknown> = {}, namespace = 'shop') =>
  podOf({ containers, ...extra }, { namespace });

const deployment = (resources: unknown): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'checkout', namespace: 'shop' },
  spec: {
    selector: { matchLabels: { app: 'checkout' } },
    template: { metadata: { labels: { app: 'checkout' } }, spec: { containers: [{ name: 'checkout', image: 'shop/checkout:2.1', resources }] } },
  },
});

export default definePolicy({
  id: 'quota.container-resources',
  title: 'Containers declare cpu and memory requests and limits',
  description:
    'Every container and init container sets `resources.requests.cpu`, `resources.requests.memory`, `resources.limits.cpu` ' +
    'and `resources.limits.memory` as valid quantities, so the scheduler can place it and a runaway process is capped ' +
    'instead of starving its neighbours. Applies to Pods and to the pod templates of every pod controller (a LimitRange ' +
    'fills in defaults at admission, before this check runs in the webhook). Ephemeral debug containers cannot set ' +
    'resources and are not judged; system namespaces are exempt.',
  area: 'quota',
  severity: 'high',
  action: 'deny',
  match: { kinds: ['Pod'] },
  validate({ pod, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    for (const c of pod.containers()) {
      if (c.type === 'ephemeralContainers') continue;
      const kind = c.type === 'initContainers' ? 'init container' : 'container';
      // Missing fields are grouped by the parent they belong under, so a container without any resources is one finding.
      const { resources } = c;
      const requests = resources?.requests;
      const limits = resources?.limits;
      let missing: Map<string, string[]> | undefined;
      const check = (value: unknown, field: string, section: 'requests' | 'limits') => {
        if (value === undefined || value === null || value === '') {
          const parent = c.get(`resources.${section}`) !== undefined ? `resources.${section}` : c.get('resources') !== undefined ? 'resources' : '';
          missing ??= new Map();
          missing.set(parent, [...(missing.get(parent) ?? []), field]);
        } else if (!isQuantity(value)) {
          report(`${kind} "${c.name}" sets ${field} to ${JSON.stringify(value)}, which is not a Kubernetes quantity (e.g. 500m, 256Mi)`, c.path(`resources.${field}`));
        }
      };
      check(requests?.cpu, 'requests.cpu', 'requests');
      check(requests?.memory, 'requests.memory', 'requests');
      check(limits?.cpu, 'limits.cpu', 'limits');
      check(limits?.memory, 'limits.memory', 'limits');
      if (!missing) continue;
      for (const [parent, fields] of missing)
        report(`${kind} "${c.name}" has no ${fields.join(', ')}: set ${fields.map((f) => `resources.${f}`).join(', ')}`, c.path(parent));
    }
  },
  examples: {
    pass: [
      pod([{ name: 'web', image: 'shop/web:1.4', resources: full }]),
      pod([{ name: 'web', image: 'shop/web:1.4', resources: full }], { initContainers: [{ name: 'migrate', image: 'shop/migrate:1.4', resources: full }] }),
      deployment({ requests: { cpu: 0.25, memory: '1e9' }, limits: { cpu: '1', memory: '1Gi' } }),
      { name: 'system namespace is exempt', objects: [pod([{ name: 'proxy', image: 'kube-proxy:1.30' }], {}, 'kube-system')] },
      {
        name: 'ephemeral debug containers are not judged',
        objects: [pod([{ name: 'web', image: 'shop/web:1.4', resources: full }], { ephemeralContainers: [{ name: 'debug', image: 'busybox:1.36' }] })],
      },
    ],
    fail: [
      pod([{ name: 'web', image: 'shop/web:1.4' }]),
      pod([{ name: 'web', image: 'shop/web:1.4', resources: { requests: { cpu: '100m', memory: '128Mi' } } }]),
      pod([{ name: 'web', image: 'shop/web:1.4', resources: full }], { initContainers: [{ name: 'migrate', image: 'shop/migrate:1.4' }] }),
      deployment({ limits: { cpu: '1', memory: '1Gi' } }),
      deployment({ requests: { cpu: 'one', memory: '128Mi' }, limits: { cpu: '1', memory: '1Gi' } }),
      {
        apiVersion: 'batch/v1',
        kind: 'CronJob',
        metadata: { name: 'report', namespace: 'shop' },
        spec: { schedule: '@daily', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'report', image: 'shop/report:1' }], restartPolicy: 'OnFailure' } } } } },
      },
    ],
  },
});
