/**
 * Bytes allocated and time per watch event, and per /metrics scrape, in-process (no network):
 *
 *   node dist/bench/watch-alloc.js [--events 2000] [--clusters 100] [--scrapes 20]
 *
 * (it re-runs itself under `--expose-gc --min-semi-space-size=64 --max-semi-space-size=64`). What the heap fills
 * with between collections is garbage; this counts it. Allocation is measured exactly, not sampled: a full GC, then
 * a batch small enough for the young generation (so no collection runs inside it: checked with the GC
 * observer, a batch with one is measured again), then the growth of the heap. Per event, what the watch does for a
 * MODIFIED pod on a busy fleet: the JSON line parsed (as watch/stream.ts does), the event applied
 * (WatchedCluster.event: judged, compacted, drift, totals), then the cluster's metrics view rebuilt (the refresh every
 * change on a cluster is followed by at 1,000 events/s over hundreds of clusters). Per scrape: /metrics rendered
 * over --clusters clusters, after one cluster changed (as between two scrapes of a busy fleet).
 */
import { execFileSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { builtinPolicies } from '../policies/index.js';
import { identityOf, type KubeObject } from '../src/index.js';
import { sampleObjects } from '../testkit/api-double.js';
import { WatchedCluster } from '../watch/cluster.js';
import type { FleetWatch } from '../watch/fleet-watch.js';
import { clusterScopeKinds, createJudge } from '../watch/judge.js';
import { WatchMetrics } from '../watch/metrics.js';
import { machine } from './lib.js';

const FLAGS = ['--expose-gc', '--min-semi-space-size=64', '--max-semi-space-size=64'];
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  execFileSync(process.execPath, [...FLAGS, fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(0);
}
const arg = (name: string, dflt: number) => (process.argv.includes(`--${name}`) ? Number(process.argv[process.argv.indexOf(`--${name}`) + 1]) : dflt);
const EVENTS = arg('events', 2000);
const CLUSTERS = arg('clusters', 100);
const SCRAPES = arg('scrapes', 20);

/** When each collection started (performance.now()'s clock): a batch is measured only if none started inside it. */
const collections: number[] = [];
new PerformanceObserver((l) => {
  for (const e of l.getEntries()) collections.push(e.startTime);
}).observe({ entryTypes: ['gc'] });
const settle = () => new Promise((r) => setTimeout(r, 5));

/** Bytes allocated and ms taken by `n` calls of `step`, in batches of `batch` with no collection inside. */
async function measure(n: number, batch: number, step: (i: number) => Promise<unknown> | unknown, prepare?: (i: number) => Promise<unknown>): Promise<{ bytes: number; ms: number; batches: number; retried: number }> {
  let bytes = 0;
  let ms = 0;
  let done = 0;
  let retried = 0;
  let batches = 0;
  while (done < n) {
    const k = Math.min(batch, n - done);
    if (prepare) for (let i = 0; i < k; i++) await prepare(done + i);
    gc!();
    await settle();
    const h0 = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    for (let i = 0; i < k; i++) await step(done + i);
    const t = performance.now() - t0;
    const h1 = process.memoryUsage().heapUsed;
    await settle();
    if (collections.some((at) => at >= t0 && at <= t0 + t)) {
      if (++retried > 20) throw new Error('a collection ran in every batch: lower the batch');
      continue;
    }
    bytes += h1 - h0;
    ms += t;
    done += k;
    batches++;
  }
  return { bytes, ms, batches, retried };
}

const judge = await createJudge(builtinPolicies);
const desiredObjects = sampleObjects({ namespaces: 24, podsPerNamespace: 13 }).filter((o) => ['Namespace', 'ResourceQuota', 'NetworkPolicy', 'Deployment'].includes(o.kind!));
const desired = new Map<string, KubeObject>(desiredObjects.map((o) => [identityOf(o), o]));
const fleet = { file: 'f', repo: '.', layers: [], clusters: [], owned: ['NetworkPolicy'], parameters: {}, actions: {}, overrides: [], timeoutSeconds: 30, allowExecPlugins: [] };
const kept = clusterScopeKinds(builtinPolicies);
const clusters: WatchedCluster[] = [];
for (let c = 0; c < CLUSTERS; c++) {
  const wc = new WatchedCluster({ name: `c${String(c).padStart(4, '0')}`, labels: { region: 'europe', type: 'edge', cohort: '1' }, source: { snapshot: '.' }, index: c }, fleet, judge, desired, ['base'], kept, { detected() {}, syncError() {}, event() {} });
  await wc.replaceAll(sampleObjects({ namespaces: 24, podsPerNamespace: 13 }), []);
  clusters.push(wc);
}
const metrics = new WatchMetrics({ defaultMetrics: false });
metrics.attach({ clusters, currentScore: () => 50 } as unknown as FleetWatch);

/** The refresh a change schedules (watch/cluster.ts scheduleRefresh), run now rather than on its timer. */
type Internals = { refreshTimer?: NodeJS.Timeout; viewCache?: unknown };
function refresh(wc: WatchedCluster): void {
  const w = wc as unknown as Internals;
  clearTimeout(w.refreshTimer);
  w.refreshTimer = undefined;
  wc.view();
}

// The pods' watch lines, as the double sends them (a label changed, a new resourceVersion).
const pods = sampleObjects({ namespaces: 24, podsPerNamespace: 13 }).filter((o) => o.kind === 'Pod');
const line = (i: number) => {
  const p = structuredClone(pods[i % pods.length]);
  p.metadata!.labels = { ...p.metadata!.labels, seq: String(i) };
  p.metadata!.resourceVersion = String(1_000_000 + i);
  return JSON.stringify({ type: 'MODIFIED', object: p });
};
const lines = Array.from({ length: EVENTS + 200 }, (_, i) => line(i));

const eventStep = async (i: number) => {
  const wc = clusters[i % clusters.length];
  const ev = JSON.parse(lines[i]) as { object: KubeObject };
  await wc.event('MODIFIED', ev.object);
  refresh(wc);
};
await measure(200, 100, (i) => eventStep(EVENTS + i)); // warm-up: compiled code, interned strings
const events = await measure(EVENTS, 100, eventStep);

// between two scrapes one cluster changed (not measured): its series are rendered again, the others' not
const change = async (i: number) => {
  const wc = clusters[i % clusters.length];
  await wc.event('MODIFIED', (JSON.parse(line(5_000_000 + i)) as { object: KubeObject }).object);
  refresh(wc);
};
const scrape = () => metrics.registry.metrics();
await measure(3, 1, scrape, change);
const scrapes = await measure(SCRAPES, 1, scrape, change);
const sample = await metrics.registry.metrics();

const kib = (b: number) => Math.round((b / 1024) * 10) / 10;
console.log(
  JSON.stringify({
    machine: machine(),
    loadAverage: loadavg().map((x) => Math.round(x * 10) / 10),
    clusters: CLUSTERS,
    objectsPerCluster: clusters[0].sizes.objects,
    events: EVENTS,
    kibPerEvent: kib(events.bytes / EVENTS),
    usPerEvent: Math.round((events.ms / EVENTS) * 1000),
    scrapes: SCRAPES,
    scrapeBytes: Math.round(scrapes.bytes / SCRAPES),
    scrapeMb: Math.round((scrapes.bytes / SCRAPES / 1e6) * 100) / 100,
    scrapeMs: Math.round((scrapes.ms / SCRAPES) * 10) / 10,
    metricsTextBytes: sample.length,
    batchesRetried: events.retried + scrapes.retried,
  }),
);
await judge.close();
