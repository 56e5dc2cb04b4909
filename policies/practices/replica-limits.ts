import { definePolicy } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';
import { deployment, statefulSet } from './common.js';

interface Range {
  min_replicas?: number;
  max_replicas?: number;
}
type Ranges = Record<string, Range[]>;
const app = { containers: [{ name: 'web', image: 'shop/web:1.4' }] };
const show = (r: Range) => `${r.min_replicas ?? 0}-${r.max_replicas ?? '∞'}`;

export default definePolicy({
  id: 'practices.replica-limits',
  title: "Replica counts stay within the ranges for the cluster's type",
  description:
    'A Deployment or StatefulSet asks for a number of replicas within one of the ranges for the cluster\'s type ' +
    '(the cluster label named by `clusterTypeLabel`, default `type`; `ranges.default` for other clusters). A range ' +
    "is `{ min_replicas, max_replicas }`, inclusive, as in the Gatekeeper library's K8sReplicaLimits; unset " +
    '`replicas` counts as 1 (the API default; Gatekeeper reads it as 0). An edge PoP has room for a few replicas, ' +
    'a transit cluster for many. A workload scaled by a HorizontalPodAutoscaler is still judged on its declared ' +
    'replicas. System namespaces are exempt.',
  area: 'practices',
  severity: 'low',
  action: 'warn',
  match: { kinds: ['apps/Deployment', 'apps/StatefulSet'] },
  params: {
    clusterTypeLabel: 'type',
    ranges: {
      edge: [{ min_replicas: 1, max_replicas: 5 }],
      transit: [{ min_replicas: 1, max_replicas: 50 }],
      default: [{ min_replicas: 1, max_replicas: 20 }],
    } as Ranges,
  },
  validate({ object, params, cluster, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    const typeLabel = typeof params.clusterTypeLabel === 'string' ? params.clusterTypeLabel : 'type';
    const type = cluster.labels[typeLabel];
    const all = isObject(params.ranges) ? (params.ranges as Ranges) : {};
    const key = type !== undefined && Array.isArray(all[type]) ? type : 'default';
    const ranges = (Array.isArray(all[key]) ? all[key] : []).filter(isObject) as Range[];
    if (!ranges.length) return;
    const spec: { replicas?: unknown } = isObject(object.spec) ? object.spec : {};
    const replicas = spec.replicas === undefined || spec.replicas === null ? 1 : spec.replicas;
    const where = key === 'default' ? 'this cluster (default ranges)' : `${typeLabel}=${type} clusters`;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas)) {
      report(`replicas is ${JSON.stringify(replicas)}, not a whole number`, ['spec', 'replicas']);
      return;
    }
    if (ranges.some((r) => (r.min_replicas ?? 0) <= replicas && replicas <= (r.max_replicas ?? Infinity))) return;
    report(`${object.kind} asks for ${replicas} replica${replicas === 1 ? '' : 's'}; allowed on ${where}: ${ranges.map(show).join(', ')}`, spec.replicas === undefined ? ['spec'] : ['spec', 'replicas']);
  },
  examples: {
    pass: [
      deployment(app, 3),
      deployment(app, null),
      { name: 'transit cluster allows many', objects: [deployment(app, 40)], clusterLabels: { type: 'transit' } },
      { name: 'upstream: 3 within 3-50', objects: [deployment(app, 3)], params: { ranges: { default: [{ min_replicas: 3, max_replicas: 50 }] } } },
    ],
    fail: [
      { name: 'too many for an edge PoP', objects: [statefulSet(app, 8)], clusterLabels: { type: 'edge' } },
      deployment(app, 0),
      { name: 'upstream: 100 outside 3-50', objects: [deployment(app, 100)], params: { ranges: { default: [{ min_replicas: 3, max_replicas: 50 }] } } },
      { name: 'unset replicas is 1', objects: [deployment(app, null)], params: { ranges: { default: [{ min_replicas: 2, max_replicas: 5 }] } } },
    ],
  },
});
