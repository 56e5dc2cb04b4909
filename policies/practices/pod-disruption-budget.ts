import { defineClusterPolicy, groupOf, matchesSelector } from '../../src/index.js';
import type { KubeObject, LabelSelector } from '../../src/index.js';
import { isObject } from '../isolation/namespaces.js';
import { deployment, statefulSet } from './common.js';

const app = { containers: [{ name: 'web', image: 'shop/web:1.4' }] };
const pdb = (spec: Record<string, unknown>, name = 'web', namespace = 'shop', apiVersion = 'policy/v1'): KubeObject => ({
  apiVersion,
  kind: 'PodDisruptionBudget',
  metadata: { name, namespace },
  spec,
});

/** Whether a PDB lets no pod of `replicas` be evicted, so a node drain waits forever. */
function blocksEviction(spec: Record<string, unknown>, replicas: number): boolean {
  const { maxUnavailable, minAvailable } = spec;
  if (maxUnavailable === 0 || maxUnavailable === '0' || maxUnavailable === '0%') return true;
  if (typeof minAvailable === 'number') return minAvailable >= replicas;
  return minAvailable === '100%';
}

export default defineClusterPolicy({
  id: 'practices.pod-disruption-budget',
  title: 'Replicated workloads have a PodDisruptionBudget that allows a drain',
  description:
    'A Deployment or StatefulSet with `minReplicas` (default 2) or more replicas has a PodDisruptionBudget in its ' +
    'namespace whose selector matches its pod template, so a node drain (an edge PoP upgrade) never takes every ' +
    'replica down at once; and that budget lets at least one pod go (`maxUnavailable: 0`, or `minAvailable` equal to ' +
    "the replicas, blocks every drain), as the Gatekeeper library's K8sPodDisruptionBudget. Judged over the inventory " +
    '(scan, or lint over a set of files); system namespaces are exempt.',
  area: 'practices',
  severity: 'medium',
  action: 'audit',
  scope: 'cluster',
  match: { kinds: ['apps/Deployment', 'apps/StatefulSet', 'policy/PodDisruptionBudget'] },
  params: { minReplicas: 2 },
  validate({ inventory, params, report, isSystemNamespace }) {
    const min = typeof params.minReplicas === 'number' ? params.minReplicas : 2;
    const budgets = inventory.ofKind('PodDisruptionBudget').filter((p) => groupOf(p.apiVersion) === 'policy' && isObject(p.spec));
    for (const kind of ['Deployment', 'StatefulSet']) {
      for (const w of inventory.ofKind(kind)) {
        if (groupOf(w.apiVersion) !== 'apps' || w.metadata?.deletionTimestamp) continue;
        const ns = w.metadata?.namespace ?? 'default';
        if (isSystemNamespace(ns)) continue;
        const spec = isObject(w.spec) ? w.spec : {};
        const replicas = spec.replicas === undefined ? 1 : spec.replicas;
        if (typeof replicas !== 'number' || replicas < min) continue;
        const tpl = isObject(spec.template) && isObject(spec.template.metadata) ? spec.template.metadata : {};
        const labels = isObject(tpl.labels) ? (tpl.labels as Record<string, string>) : {};
        const selecting = budgets.filter((p) => {
          if ((p.metadata?.namespace ?? 'default') !== ns) return false;
          const sel = (p.spec as { selector?: unknown }).selector;
          // policy/v1: an empty selector selects every pod of the namespace; a missing one selects none.
          return isObject(sel) && matchesSelector(labels, sel as LabelSelector);
        });
        const name = w.metadata?.name ?? '';
        if (!selecting.length) {
          report(w, `${kind} "${name}" runs ${replicas} replicas but no PodDisruptionBudget in namespace "${ns}" selects its pods: a node drain may evict them all at once`, ['spec', 'replicas']);
          continue;
        }
        const blocking = selecting.find((p) => blocksEviction(p.spec as Record<string, unknown>, replicas));
        if (blocking)
          report(w, `PodDisruptionBudget "${blocking.metadata?.name}" lets none of the ${replicas} replicas of ${kind} "${name}" be evicted, so every node drain hangs: allow at least one (maxUnavailable: 1)`, ['spec', 'replicas']);
      }
    }
  },
  examples: {
    pass: [
      { name: 'deployment with a PDB', objects: [deployment(app, 3), pdb({ maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } })] },
      { name: 'a single replica needs none', objects: [deployment(app, 1)] },
      { name: 'statefulset with minAvailable below replicas', objects: [statefulSet(app, 3), pdb({ minAvailable: 2, selector: { matchLabels: { app: 'db' } } }, 'db')] },
      { name: 'system namespace', objects: [deployment(app, 2, 'coredns', 'kube-system')] },
    ],
    fail: [
      { name: 'no PDB', objects: [deployment(app, 3)] },
      { name: 'PDB in another namespace', objects: [deployment(app, 3), pdb({ maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } }, 'web', 'other')] },
      { name: 'PDB selects other pods', objects: [statefulSet(app, 3), pdb({ maxUnavailable: 1, selector: { matchLabels: { app: 'web' } } })] },
      { name: 'upstream: maxUnavailable 0', objects: [deployment(app, 3), pdb({ maxUnavailable: 0, selector: { matchLabels: { app: 'web' } } })] },
      { name: 'upstream: minAvailable equals replicas', objects: [deployment(app, 3), pdb({ minAvailable: 3, selector: { matchLabels: { app: 'web' } } })] },
    ],
  },
});
