/**
 * A watched fleet for the tests: the API double with watch streams, live clusters of sampleObjects, a config repo
 * on disk (namespaces, quota, default-deny, a deployment) and a fleet file naming it all.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../../src/index.js';
import { loadPolicySet } from '../../src/loading/index.js';
import { builtinPolicies } from '../../policies/index.js';
import { DesiredState, loadLayers } from '../../scanner/desired.js';
import { loadFleet, type Fleet } from '../../scanner/fleet.js';
import { scanFleet, type ClusterReport, type FleetReport } from '../../scanner/scan.js';
import { FleetWatch } from '../../watch/fleet-watch.js';
import { WatchMetrics } from '../../watch/metrics.js';
import { sampleObjects, startApiDouble, type ApiDouble, type ClusterOptions } from '../../testkit/api-double.js';
import { attachWatch, type WatchDouble } from '../../testkit/api-watch.js';

export const TENANTS = 3;

/** What the repo declares: the tenant namespaces, their quota and default-deny, the web deployment. */
export function repoObjects(): KubeObject[] {
  const objs = sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }).filter((o) => ['Namespace', 'ResourceQuota', 'NetworkPolicy', 'Deployment'].includes(o.kind!));
  return objs.map((o) => structuredClone(o));
}

export interface WatchFixture {
  api: ApiDouble;
  w: WatchDouble;
  dir: string;
  repo: string;
  fleetFile: string;
  fleet(): Promise<Fleet>;
  close(): Promise<void>;
}

export async function watchFixture(
  clusters: { name: string; opts?: ClusterOptions; labels?: Record<string, string> }[],
  extra: { snapshots?: Record<string, KubeObject[]>; timeoutSeconds?: number; http2?: boolean } = {},
): Promise<WatchFixture> {
  const api = await startApiDouble({ http2: extra.http2 });
  const w = attachWatch(api);
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-watch-'));
  const repo = join(dir, 'repo');
  mkdirSync(join(repo, 'base'), { recursive: true });
  writeFileSync(join(repo, 'base', 'objects.yaml'), repoObjects().map((o) => stringify(o)).join('---\n'));
  const fleetClusters: unknown[] = [];
  for (const c of clusters) {
    api.addCluster(c.name, { objects: sampleObjects({ namespaces: TENANTS, podsPerNamespace: 1 }), ...c.opts });
    const kc = api.writeKubeconfig(join(dir, `${c.name}.kubeconfig`), [c.name]);
    fleetClusters.push({ name: c.name, labels: c.labels ?? { region: 'europe', type: 'edge', cohort: '1' }, source: { kubeconfig: kc, context: c.name } });
  }
  for (const [name, objects] of Object.entries(extra.snapshots ?? {})) {
    mkdirSync(join(dir, 'snap', name), { recursive: true });
    writeFileSync(join(dir, 'snap', name, 'all.yaml'), objects.map((o) => stringify(o)).join('---\n'));
    fleetClusters.push({ name, labels: { region: 'europe', type: 'edge', cohort: '2' }, source: { snapshot: `snap/${name}` } });
  }
  const fleetFile = join(dir, 'fleet.yaml');
  writeFileSync(fleetFile, stringify({ repo: './repo', layers: [{ path: 'base' }], owned: ['NetworkPolicy'], timeoutSeconds: extra.timeoutSeconds ?? 20, clusters: fleetClusters }));
  return {
    api,
    w,
    dir,
    repo,
    fleetFile,
    fleet: () => loadFleet(fleetFile),
    async close() {
      await api.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function startWatch(fx: WatchFixture, tuning = {}, policyPaths: string[] = []): Promise<{ watch: FleetWatch; metrics: WatchMetrics }> {
  const { policies, errors } = await loadPolicySet(policyPaths, { builtins: builtinPolicies });
  if (errors.length) throw new Error(JSON.stringify(errors));
  const metrics = new WatchMetrics({ defaultMetrics: false });
  const watch = await FleetWatch.start({
    fleet: await fx.fleet(),
    policies,
    hooks: metrics.hooks(),
    tuning: { idleMs: 5_000, backoffMs: { base: 20, max: 200 }, debounceMs: 50, ...tuning },
  });
  metrics.attach(watch);
  return { watch, metrics };
}

/** What `fleetgate scan` reports for the fleet as it is now. */
export async function scanNow(fx: WatchFixture): Promise<FleetReport> {
  const fleet = await fx.fleet();
  const { policies } = await loadPolicySet([], { builtins: builtinPolicies });
  const { layers } = await loadLayers(fleet);
  return scanFleet(fleet, { policies, desired: new DesiredState(layers) });
}

/** The judged part of a cluster report, order-independent (drift and findings sorted, keys in one order). */
export function judged(c: ClusterReport): unknown {
  const sortKeys = (v: unknown): unknown =>
    Array.isArray(v) ? v.map(sortKeys) : v && typeof v === 'object' ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])])) : v;
  const byJson = (a: unknown, b: unknown) => (JSON.stringify(sortKeys(a)) < JSON.stringify(sortKeys(b)) ? -1 : 1);
  return sortKeys({
    status: c.status,
    score: c.score,
    desired: c.desired,
    inSync: c.inSync,
    objects: c.objects,
    totalWeight: c.totalWeight,
    passedWeight: c.passedWeight,
    objectScore: c.objectScore,
    objectTotalWeight: c.objectTotalWeight,
    objectPassedWeight: c.objectPassedWeight,
    waived: c.waived,
    policies: c.policies,
    drift: [...c.drift].sort(byJson),
    findings: [...c.findings].sort(byJson),
  });
}

/** Polls until `check` holds (changes are asynchronous); returns whether it did before the deadline. */
export async function until(check: () => boolean | Promise<boolean>, ms = 15_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}
