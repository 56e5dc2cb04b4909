// watch/metrics.ts writes the per-cluster gauges itself, from text rendered once per cluster view. Checked against
// prom-client's own rendering of the same views (Gauges set from them in a registry of their own), before and after
// changes, with label values that need escaping.
import t from 'tap';
import { Gauge, Registry } from 'prom-client';
import { builtinPolicies } from '../../policies/index.js';
import { identityOf, type KubeObject } from '../../src/index.js';
import { sampleObjects } from '../../testkit/api-double.js';
import { WatchedCluster } from '../../watch/cluster.js';
import type { FleetWatch } from '../../watch/fleet-watch.js';
import { clusterScopeKinds, createJudge } from '../../watch/judge.js';
import { WatchMetrics } from '../../watch/metrics.js';

const PER_CLUSTER = /^fleetgate_cluster_(score|up|findings|drift_objects)\{/;

/** The per-cluster samples prom-client writes for these views (oldest-drift age left out: it moves with the clock). */
async function oracle(clusters: WatchedCluster[]): Promise<string[]> {
  const registers = [new Registry()];
  const score = new Gauge({ name: 'fleetgate_cluster_score', help: 'h', labelNames: ['cluster', 'region', 'type', 'cohort'], registers });
  const up = new Gauge({ name: 'fleetgate_cluster_up', help: 'h', labelNames: ['cluster'], registers });
  const findings = new Gauge({ name: 'fleetgate_cluster_findings', help: 'h', labelNames: ['cluster', 'policy', 'severity', 'action'], registers });
  const drift = new Gauge({ name: 'fleetgate_cluster_drift_objects', help: 'h', labelNames: ['cluster', 'state'], registers });
  for (const c of clusters) {
    const v = c.view();
    const l = c.cluster.labels;
    if (v.score !== null) score.set({ cluster: c.name, region: l.region ?? '', type: l.type ?? '', cohort: l.cohort ?? '' }, v.score);
    up.set({ cluster: c.name }, v.up ? 1 : 0);
    for (const e of v.findings) findings.set({ cluster: c.name, policy: e.policy, severity: e.severity, action: e.action }, e.n);
    if (v.up) for (const [state, n] of Object.entries(v.drift)) drift.set({ cluster: c.name, state }, n);
  }
  return samples(await registers[0].metrics());
}

const samples = (text: string) =>
  text
    .split('\n')
    .filter((l) => PER_CLUSTER.test(l))
    .sort();

/** Past REFRESH_INTERVAL_MS (and CLUSTER_PASS_INTERVAL_MS when a kept kind changed): the view is rebuilt. */
const settle = (ms = 400) => new Promise((r) => setTimeout(r, ms));

t.test('per-cluster gauges: what prom-client would write, as the views change', async (t) => {
  const judge = await createJudge(builtinPolicies);
  t.teardown(() => judge.close());
  const objects = sampleObjects({ namespaces: 4, podsPerNamespace: 3 });
  const desired = new Map<string, KubeObject>(objects.filter((o) => o.kind === 'Deployment').map((o) => [identityOf(o), o]));
  const fleet = { file: 'f', repo: '.', layers: [], clusters: [], owned: ['NetworkPolicy'], parameters: {}, actions: {}, overrides: [], timeoutSeconds: 30, allowExecPlugins: [] };
  const hooks = { detected() {}, syncError() {}, event() {} };
  const odd = new WatchedCluster({ name: 'odd', labels: { region: 'eu "west"\\1', type: 'a\nb' }, source: { snapshot: '.' }, index: 0 }, fleet, judge, desired, [], clusterScopeKinds(builtinPolicies), hooks);
  const plain = new WatchedCluster({ name: 'plain', labels: { region: 'asia', type: 'edge', cohort: '1' }, source: { snapshot: '.' }, index: 1 }, fleet, judge, desired, [], clusterScopeKinds(builtinPolicies), hooks);
  const pending = new WatchedCluster({ name: 'pending', labels: {}, source: { snapshot: '.' }, index: 2 }, fleet, judge, desired, [], clusterScopeKinds(builtinPolicies), hooks);
  const clusters = [odd, plain, pending];
  await odd.replaceAll(objects, []);
  await plain.replaceAll(objects.filter((o) => o.kind !== 'Deployment'), []); // every desired Deployment missing
  const metrics = new WatchMetrics({ defaultMetrics: false });
  metrics.attach({ clusters, currentScore: () => 50 } as unknown as FleetWatch);

  const first = await metrics.registry.metrics();
  t.same(samples(first), await oracle(clusters), 'the same samples as prom-client writes');
  t.match(first, 'fleetgate_cluster_score{cluster="odd",region="eu \\"west\\"\\\\1",type="a\\nb",cohort=""}', 'label values escaped as prom-client does');
  t.match(first, 'fleetgate_cluster_up{cluster="pending"} 0', 'a cluster not synced yet: up 0');
  t.match(first, /fleetgate_cluster_drift_objects\{cluster="plain",state="missing"\} [1-9]/, 'the missing Deployments');
  t.match(first, /# HELP fleetgate_cluster_oldest_drift_seconds .*\n# TYPE fleetgate_cluster_oldest_drift_seconds gauge\n/, 'HELP and TYPE lines');
  t.match(first, /fleetgate_cluster_oldest_drift_seconds\{cluster="plain"\} [\d.]+/, 'the oldest drift, per scrape');
  t.equal(samples(await metrics.registry.metrics()).join('\n'), samples(first).join('\n'), 'nothing changed: the same text again');

  // a pod made worse on one cluster: its findings grow, the other cluster's lines stay as they were
  const pod = structuredClone(objects.find((o) => o.kind === 'Pod')!) as KubeObject & { spec: { hostNetwork?: boolean; containers: { image?: string }[] } };
  pod.spec.hostNetwork = true;
  pod.spec.containers[0].image = 'nginx:latest';
  pod.metadata!.resourceVersion = '999999';
  t.equal(await odd.event('MODIFIED', pod), 'applied');
  await settle();
  const second = await metrics.registry.metrics();
  t.same(samples(second), await oracle(clusters), 'after the change: the same samples as prom-client writes');
  t.not(samples(second).filter((l) => l.includes('cluster="odd"')).join('\n'), samples(first).filter((l) => l.includes('cluster="odd"')).join('\n'), 'the changed cluster is rendered again');
  t.same(samples(second).filter((l) => l.includes('cluster="plain"')), samples(first).filter((l) => l.includes('cluster="plain"')), 'the other as it was');

  // the Deployments arrive on the second cluster (a kind cluster-scope policies read: the pass runs): its drift goes
  for (const o of objects.filter((o) => o.kind === 'Deployment')) await plain.event('ADDED', o);
  await settle(1600);
  const third = await metrics.registry.metrics();
  t.same(samples(third), await oracle(clusters), 'after the drift went: the same samples as prom-client writes');
  t.match(third, 'fleetgate_cluster_drift_objects{cluster="plain",state="missing"} 0');
  await Promise.all(clusters.map((c) => c.stop()));
});
