/** Per-event cost of the watch's judging and report building, in-process (no network): node dist/bench/watch-micro.js */
import { builtinPolicies } from '../policies/index.js';
import type { KubeObject } from '../src/index.js';
import { sampleObjects } from '../testkit/api-double.js';
import { WatchedCluster } from '../watch/cluster.js';
import { clusterScopeKinds, createJudge } from '../watch/judge.js';

const objects = sampleObjects({ namespaces: 24, podsPerNamespace: 13 });
const desired = new Map<string, KubeObject>();
const judge = await createJudge(builtinPolicies);
const fleet = { file: 'f', repo: '.', layers: [], clusters: [], owned: ['NetworkPolicy'], parameters: {}, actions: {}, overrides: [], timeoutSeconds: 30, allowExecPlugins: [] };
const cluster = { name: 'c', labels: { region: 'europe' }, source: { snapshot: '.' }, index: 0 };
const wc = new WatchedCluster(cluster, fleet, judge, desired, [], clusterScopeKinds(builtinPolicies), { detected() {}, syncError() {}, event() {} });
let t = performance.now();
await wc.replaceAll(objects, []);
console.log(`initial judge of ${objects.length} objects: ${(performance.now() - t).toFixed(0)} ms`);
const pods = objects.filter((o) => o.kind === 'Pod');
const N = 5000;
t = performance.now();
for (let i = 0; i < N; i++) {
  const p = structuredClone(pods[i % pods.length]);
  p.metadata!.labels = { ...p.metadata!.labels, seq: String(i) };
  p.metadata!.resourceVersion = String(10_000 + i);
  await wc.event('MODIFIED', p);
}
console.log(`${N} pod events judged: ${((performance.now() - t) / N * 1000).toFixed(0)} µs/event`);
t = performance.now();
const state = (wc as unknown as { state: { summary(): unknown; report(b: object): unknown } }).state;
for (let i = 0; i < 200; i++) state.summary();
console.log(`metrics view (score, drift, finding counts): ${((performance.now() - t) / 200).toFixed(2)} ms`);
t = performance.now();
for (let i = 0; i < 50; i++) state.report({ name: 'c', index: 0, labels: {}, layers: [], warnings: [] });
console.log(`full report (findings collected and sorted): ${((performance.now() - t) / 50).toFixed(2)} ms`);
await judge.close();
