/**
 * The per-cluster work of a scan worker, in one thread and without the disk (not a test): the first N clusters'
 * snapshot files are read once into memory, then each round judges every cluster as a scan worker does — the
 * snapshot texts JSON.parsed (loadText, as readSnapshot), drift, every built-in policy, scores, and the record
 * (judged.ts: the report serialized once, the fleet store's parts) — and prints the median ms per cluster.
 * Meant for `node --cpu-prof` and for A/B of the engine, scoring and record code on a machine too loaded for the
 * whole-process bench (bench/scan.ts), since one thread's CPU is all it measures.
 * Usage: npm run build && node dist/bench/scan-micro.js [--dir bench/out/scan-fleet] [--clusters 50] [--rounds 5] [--inflight 1]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { builtinPolicies } from '../policies/index.js';
import { DesiredState, loadLayers } from '../scanner/desired.js';
import { loadFleet } from '../scanner/fleet.js';
import { judged } from '../scanner/judged.js';
import { scanCluster, type ClusterSource } from '../scanner/scan.js';
import { loadText } from '../src/loading/index.js';
import { createEvaluator } from '../src/engine/index.js';
import { median } from './lib.js';
import { OUT } from './scan.js';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const dir = arg('dir', OUT);
const count = Number(arg('clusters', '50'));
const rounds = Number(arg('rounds', '5'));
/** Clusters judged at once, as a worker holds `--concurrency` ÷ jobs of them. */
const inflight = Number(arg('inflight', '1'));

const fleet = await loadFleet(join(dir, 'fleet.yaml'));
const clusters = fleet.clusters.slice(0, count);
const texts = new Map<string, { file: string; text: string }[]>();
for (const c of clusters) {
  if (!('snapshot' in c.source)) throw new Error(`${c.name}: not a snapshot cluster`);
  const snap = c.source.snapshot;
  texts.set(c.name, readdirSync(snap).sort().map((f) => ({ file: join(snap, f), text: readFileSync(join(snap, f), 'utf8') })));
}
/** readSnapshot's work on texts already in memory. */
const source: ClusterSource = async (cluster) => ({
  objects: texts.get(cluster.name)!.flatMap(({ file, text }) => loadText(text, file, { positions: false }).resources.map((r) => r.object)),
  warnings: [],
});
const layers = await loadLayers(fleet);
const opts = { policies: builtinPolicies, desired: new DesiredState(layers.layers), source };
const evaluator = await createEvaluator(builtinPolicies, {});

const perCluster: number[] = [];
let bytes = 0;
for (let r = 0; r < rounds; r++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < clusters.length; i += inflight)
    await Promise.all(
      clusters.slice(i, i + inflight).map(async (c, k) => {
        bytes = judged(i + k, await scanCluster(fleet, c, evaluator, opts), true).record.length;
      }),
    );
  perCluster.push(Number(process.hrtime.bigint() - t) / 1e6 / clusters.length);
}
await evaluator.close();
console.log(JSON.stringify({ clusters: clusters.length, rounds, msPerCluster: +median(perCluster).toFixed(2), rounds_ms: perCluster.map((x) => +x.toFixed(2)), lastRecordBytes: bytes }));
