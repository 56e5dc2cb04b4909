import { defineFleetPolicy } from '../../src/index.js';
import type { KubeObject } from '../../src/index.js';

export const CRITICAL_LABEL = 'fleetgate.io/critical';
const KINDS = ['apps/Deployment', 'apps/StatefulSet'] as const;

const workload = (name = 'checkout', critical = true): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: 'shop', labels: critical ? { [CRITICAL_LABEL]: 'true' } : {} },
  spec: { replicas: 2 },
});
const eu = (name: string, objects: KubeObject[] = [], status: 'ok' | 'unreachable' = 'ok') => ({ name, labels: { region: 'europe' }, objects, status });

export default defineFleetPolicy({
  id: 'fleet.blast-radius',
  title: 'Critical workloads run in at least N clusters of their region',
  description:
    'A workload labelled `fleetgate.io/critical: "true"` (Deployment or StatefulSet, the same namespace/name across ' +
    'clusters) runs in at least `minClusters` (default 2) reachable clusters of each region where it runs, so that one ' +
    'PoP\'s failure does not take it out. Clusters that could not be read are listed as unknown when they could make ' +
    'up the difference.',
  area: 'fleet',
  severity: 'high',
  action: 'warn',
  scope: 'fleet',
  match: { kinds: KINDS, labels: { matchLabels: { [CRITICAL_LABEL]: 'true' } } },
  // Workloads by identity and labels only (not their pod templates).
  reads: { 'apps/Deployment': [], 'apps/StatefulSet': [] },
  params: { minClusters: 2, regionLabel: 'region' },
  validate({ clusters, params, report, unknown }) {
    const min = Number(params.minClusters);
    const regionOf = (labels: Readonly<Record<string, string>>) => labels[String(params.regionLabel)] ?? '(no region)';
    // region → workload identity → the clusters running it (with the object, to report on)
    const where = new Map<string, Map<string, { cluster: string; object: KubeObject }[]>>();
    for (const c of clusters) {
      if (c.status !== 'ok') continue;
      for (const kind of KINDS)
        for (const o of c.inventory.withLabel(kind, CRITICAL_LABEL, 'true')) {
          const id = `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
          const region = where.get(regionOf(c.labels)) ?? where.set(regionOf(c.labels), new Map()).get(regionOf(c.labels))!;
          (region.get(id) ?? region.set(id, []).get(id)!).push({ cluster: c.name, object: o });
        }
    }
    for (const [region, workloads] of where) {
      const unreadable = clusters.filter((c) => c.status !== 'ok' && regionOf(c.labels) === region);
      for (const [id, running] of workloads) {
        if (running.length >= min) continue;
        if (running.length + unreadable.length >= min) {
          for (const c of unreadable) unknown(c.name, `${id} runs in ${running.length} of region ${region}'s readable clusters; ${c.name} could not be read (${c.status})`);
          continue;
        }
        for (const r of running)
          report(r.cluster, r.object, `critical ${id} runs in ${running.length} cluster(s) of region ${region} (${running.map((x) => x.cluster).join(', ')}); at least ${min} are needed so one PoP's failure does not take it out`);
      }
    }
  },
  examples: {
    pass: [
      { clusters: [eu('par01', [workload()]), eu('fra01', [workload()])] },
      { name: 'not labelled critical', clusters: [eu('par01', [workload('batch', false)])] },
    ],
    fail: [
      { name: 'one cluster of the region', clusters: [eu('par01', [workload()]), eu('fra01')] },
      {
        name: 'enough clusters in one region, not in the other',
        params: { minClusters: 2 },
        clusters: [eu('par01', [workload()]), eu('fra01', [workload()]), { name: 'sin01', labels: { region: 'apac' }, objects: [workload()], status: 'ok' as const }],
      },
    ],
  },
});
