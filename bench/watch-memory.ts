/**
 * What the watch keeps per cluster, in-process (no network, no streams): N clusters of the bench's ~500 objects
 * judged through WatchedCluster, heap measured after a full GC.
 *
 *   node --expose-gc dist/bench/watch-memory.js [--clusters 40]
 */
import { builtinPolicies } from '../policies/index.js';
import { identityOf, type KubeObject } from '../src/index.js';
import { sampleObjects } from '../testkit/api-double.js';
import { WatchedCluster } from '../watch/cluster.js';
import { clusterScopeKinds, createJudge } from '../watch/judge.js';

const i = process.argv.indexOf('--clusters');
const N = i > 0 ? Number(process.argv[i + 1]) : 40;
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const heap = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};
const desiredObjects = sampleObjects({ namespaces: 24, podsPerNamespace: 13 }).filter((o) => ['Namespace', 'ResourceQuota', 'NetworkPolicy', 'Deployment'].includes(o.kind!));
const desired = new Map<string, KubeObject>(desiredObjects.map((o) => [identityOf(o), o]));
const judge = await createJudge(builtinPolicies);
const fleet = { file: 'f', repo: '.', layers: [], clusters: [], owned: ['NetworkPolicy'], parameters: {}, actions: {}, overrides: [], timeoutSeconds: 30, allowExecPlugins: [] };
const kept = clusterScopeKinds(builtinPolicies);
const clusters: WatchedCluster[] = [];
// warm up (interned strings, shared check records, compiled code) with one cluster that is then measured too
const base = heap();
for (let c = 0; c < N; c++) {
  const wc = new WatchedCluster({ name: `c${c}`, labels: { region: 'europe' }, source: { snapshot: '.' }, index: c }, fleet, judge, desired, ['base'], kept, { detected() {}, syncError() {}, event() {} });
  await wc.replaceAll(sampleObjects({ namespaces: 24, podsPerNamespace: 13 }), []);
  wc.view();
  clusters.push(wc);
}
const total = heap() - base;
const s = clusters[0].sizes;
const findings = clusters.reduce((n, c) => n + c.report().findings.length, 0) / N;
for (const c of clusters) (c as unknown as { cached?: unknown }).cached = undefined;
const after = heap() - base;
console.log(JSON.stringify({ clusters: N, objectsPerCluster: s.objects, keptWholePerCluster: s.kept, findingsPerCluster: Math.round(findings), kibPerCluster: Math.round(after / N / 1024), kibPerClusterWithCachedReport: Math.round(total / N / 1024) }));
await judge.close();
