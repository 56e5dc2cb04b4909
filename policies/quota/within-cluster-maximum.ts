import { definePolicy, parseQuantity, tryParseQuantity } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';

type Maxima = Record<string, { cpu?: string | number; memory?: string | number; pods?: string | number }>;

/** The `spec.hard` keys bounded by each maximum. */
const KEYS: Record<'cpu' | 'memory' | 'pods', string[]> = {
  cpu: ['cpu', 'requests.cpu', 'limits.cpu'],
  memory: ['memory', 'requests.memory', 'limits.memory'],
  pods: ['pods'],
};

const quota = (hard: Record<string, string | number>, namespace = 'shop'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ResourceQuota',
  metadata: { name: 'tenant-quota', namespace },
  spec: { hard },
});

export default definePolicy({
  id: 'quota.within-cluster-maximum',
  title: "A ResourceQuota stays within the maxima of the cluster's type",
  description:
    "An edge PoP is small: a namespace quota sized for a transit cluster would let one tenant take the whole node pool. " +
    "A ResourceQuota's hard cpu (`cpu`, `requests.cpu`, `limits.cpu`), memory (likewise) and `pods` must not exceed the " +
    "maxima for the cluster's type, read from the cluster label named by `clusterTypeLabel` (default `type`); a cluster " +
    'without that label or of a type not listed uses `maxima.default`. Quantities use Kubernetes arithmetic ' +
    '(`500m`, `2Gi`, `1e3`). Override `maxima` per cluster or label in fleet.yaml or the webhook config (the whole map ' +
    'is replaced). System namespaces are exempt.',
  area: 'quota',
  severity: 'medium',
  action: 'deny',
  match: { kinds: ['ResourceQuota'] },
  params: {
    clusterTypeLabel: 'type',
    maxima: {
      edge: { cpu: '8', memory: '16Gi', pods: '50' },
      transit: { cpu: '32', memory: '128Gi', pods: '250' },
      default: { cpu: '16', memory: '64Gi', pods: '110' },
    } as Maxima,
  },
  validate({ object, params, cluster, report, isSystemNamespace, namespace }) {
    if (isSystemNamespace(namespace.name)) return;
    const typeLabel = typeof params.clusterTypeLabel === 'string' ? params.clusterTypeLabel : 'type';
    const type = cluster.labels[typeLabel];
    const maxima = isObject(params.maxima) ? (params.maxima as Maxima) : {};
    const key = type !== undefined && isObject(maxima[type]) ? type : 'default';
    const max = maxima[key];
    if (!isObject(max)) return;
    const hard = isObject(object.spec) && isObject(object.spec.hard) ? object.spec.hard : {};
    const clusterDesc = key === 'default' ? (type ? `cluster type "${type}" (not listed, so the default maxima)` : 'clusters without a type label (default maxima)') : `${typeLabel}=${type} clusters`;
    for (const [res, keys] of Object.entries(KEYS) as [keyof typeof KEYS, string[]][]) {
      const limit = max[res];
      if (limit === undefined) continue;
      const limitValue = parseQuantity(limit); // a bad parameter is a policy error, reported as such
      for (const k of keys) {
        if (!(k in hard)) continue;
        const value = tryParseQuantity(hard[k]);
        if (value === undefined) {
          report(`ResourceQuota hard ${k} is ${JSON.stringify(hard[k])}, not a Kubernetes quantity`, ['spec', 'hard', k]);
        } else if (value > limitValue * (1 + 1e-12)) {
          report(
            `ResourceQuota hard ${k} is ${String(hard[k])}, above the maximum ${String(limit)} for ${clusterDesc}: lower it to at most ${String(limit)}`,
            ['spec', 'hard', k],
          );
        }
      }
    }
  },
  examples: {
    pass: [
      { name: 'edge quota within edge maxima', objects: [quota({ 'requests.cpu': '4000m', 'limits.memory': '16Gi', pods: '50' })], clusterLabels: { type: 'edge' } },
      { name: 'transit allows more', objects: [quota({ 'limits.cpu': '24', 'limits.memory': '100Gi', pods: 200 })], clusterLabels: { type: 'transit' } },
      { name: 'quantity arithmetic: 0.5e1 cores, 1.6e10 bytes, 17179869184 = 16Gi', objects: [quota({ cpu: '0.5e1', 'requests.memory': '1.6e10', 'limits.memory': '17179869184' })], clusterLabels: { type: 'edge' } },
      { name: 'unknown type uses default maxima', objects: [quota({ cpu: '16', memory: '64Gi' })], clusterLabels: { type: 'lab' } },
      { name: 'system namespace is exempt', objects: [quota({ cpu: '1000' }, 'kube-system')], clusterLabels: { type: 'edge' } },
      {
        name: 'maxima overridden by parameter',
        objects: [quota({ cpu: '12' })],
        clusterLabels: { type: 'edge' },
        params: { maxima: { edge: { cpu: '12' } } },
      },
    ],
    fail: [
      { name: 'edge quota above edge cpu maximum', objects: [quota({ 'limits.cpu': '12', pods: '20' })], clusterLabels: { type: 'edge' } },
      { name: 'memory 17Gi above 16Gi on edge', objects: [quota({ 'requests.memory': '17Gi' })], clusterLabels: { type: 'edge' } },
      { name: 'pods 1e3 above default', objects: [quota({ pods: '1e3' })] },
      { name: '16001m cpu is above the default maximum of 16', objects: [quota({ cpu: '16001m' })], clusterLabels: { type: 'lab' } },
      { name: 'a value that is not a quantity', objects: [quota({ memory: 'a lot' })], clusterLabels: { type: 'edge' } },
    ],
  },
});
