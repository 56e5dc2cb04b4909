/**
 * Live-mode read of a fleet against the API double: 847 clusters, 50 ms latency on every request, 64 clusters in
 * flight. Several runs; prints each run and the median as JSON.
 *
 *   npx tsc -p . && node dist/bench/live-bench.js [--clusters 847] [--concurrency 64] [--latency 50] [--runs 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClusterReadError, mapWithConcurrency, readLiveCluster } from '../scanner/live/index.js';
import { sampleObjects, SCAN_KINDS, startApiDouble } from '../testkit/api-double.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

const CLUSTERS = arg('clusters', 847);
const CONCURRENCY = arg('concurrency', 64);
const LATENCY = arg('latency', 50);
const RUNS = arg('runs', 3);

async function run(): Promise<{ seconds: number; ok: number; failed: number; objects: number; requests: number }> {
  const api = await startApiDouble();
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-live-bench-'));
  try {
    const names = Array.from({ length: CLUSTERS }, (_, i) => `c${String(i).padStart(4, '0')}`);
    const kubeconfigs = names.map((n, i) => {
      api.addCluster(n, { objects: sampleObjects({ namespaces: 2 + (i % 5), podsPerNamespace: 2 }), faults: { latencyMs: LATENCY } });
      return api.writeKubeconfig(join(dir, `${n}.kubeconfig`), [n]);
    });
    const started = process.hrtime.bigint();
    const results = await mapWithConcurrency(names, CONCURRENCY, async (_n, i) => {
      try {
        const r = await readLiveCluster({ kubeconfig: kubeconfigs[i], kinds: SCAN_KINDS, timeoutMs: 30_000 });
        return r.objects.length;
      } catch (err) {
        if (err instanceof ClusterReadError) return -1;
        throw err;
      }
    });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    return {
      seconds: Math.round(seconds * 100) / 100,
      ok: results.filter((r) => r >= 0).length,
      failed: results.filter((r) => r < 0).length,
      objects: results.reduce((a, r) => a + Math.max(0, r), 0),
      requests: api.requests.length,
    };
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const runs = [];
for (let i = 0; i < RUNS; i++) {
  const r = await run();
  runs.push(r);
  console.error(`run ${i + 1}: ${JSON.stringify(r)}`);
}
const sorted = runs.map((r) => r.seconds).sort((a, b) => a - b);
const median = sorted[Math.floor(sorted.length / 2)];
console.log(JSON.stringify({ clusters: CLUSTERS, concurrency: CONCURRENCY, latencyMs: LATENCY, runs, medianSeconds: median, node: process.version }, null, 2));
