/**
 * Fleet-scope rules benchmark (not a test), on the scan benchmark's fleet (847 clusters x ~500 objects, a federated
 * ServiceEntry per tenant namespace; generated once by bench/scan.ts into bench/out/scan-fleet):
 *   scan         the whole scan with every built-in policy (the four fleet rules included);
 *   scan-nofleet the same scan without the fleet-scope policies (no per-cluster index, no fleet pass);
 * alternately, each in its own child process so each peak RSS is its own; then, in one process:
 *   rules        evaluateFleet alone over every cluster's index (the fleet pass proper), and the watch's re-judge
 *                after one changed ServiceEntry (one index object replaced; the fleet rules and rescoring over the
 *                whole fleet again, as FleetWatch.report() does).
 * Usage: npx tsc -p . && node dist/bench/fleet-rules.js [--runs 5] [--clusters 847]
 */
import { execFileSync } from 'node:child_process';
import { loadFleet } from '../scanner/fleet.js';
import { DesiredState, loadLayers } from '../scanner/desired.js';
import { formatJson } from '../scanner/report.js';
import { buildFleetReport, finishFleetRules, readSnapshot, scanFleet, type ClusterReport } from '../scanner/scan.js';
import { fleetIndexOf } from '../scanner/fleet-rules.js';
import { evaluateFleet, isFleetPolicy } from '../src/engine/index.js';
import { builtinPolicies } from '../policies/index.js';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { OUT, generate } from './scan.js';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function scan(withFleet: boolean) {
  const fleet = await loadFleet(join(OUT, 'fleet.yaml'));
  const layers = await loadLayers(fleet);
  const policies = withFleet ? builtinPolicies : builtinPolicies.filter((p) => !isFleetPolicy(p));
  const report = await scanFleet(fleet, { policies, desired: new DesiredState(layers.layers), concurrency: 8 });
  const fleetFindings = report.clusters.reduce((n, c) => n + c.findings.filter((f) => f.cluster).length, 0);
  return { score: report.score, clusters: report.clusters.length, fleetFindings, reportBytes: formatJson(report).length };
}

const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
const cpuMs = (c0: NodeJS.CpuUsage) => {
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};

/** The watch's report: shallow copies of the cached cluster reports, then the fleet rules over them. */
function rejudge(cached: readonly ClusterReport[], fleetFile: string, context: { parameters: Record<string, unknown>; actions: Record<string, never> }) {
  const clusters = cached.map((c) => ({ ...c, findings: [...c.findings], policies: { ...c.policies } }));
  return finishFleetRules(buildFleetReport(clusters, fleetFile), builtinPolicies, context);
}

/**
 * The per-cluster part the scan adds: picking and slimming the objects fleet rules need (fleetIndexOf), timed over
 * every cluster's live objects (read outside the timer).
 */
async function timeFleetIndexOf(fleet: Awaited<ReturnType<typeof loadFleet>>): Promise<number> {
  let indexMs = 0;
  for (const c of fleet.clusters) {
    const live = await readSnapshot((c.source as { snapshot: string }).snapshot);
    const t0 = process.hrtime.bigint();
    fleetIndexOf(live.objects, builtinPolicies);
    indexMs += ms(t0);
  }
  return indexMs;
}

/**
 * One ServiceEntry changes in c1 (an endpoint now names a cluster outside the fleet): the watch replaces that
 * object in the cluster's index and judges the fleet rules again.
 */
function rejudgeAfterChange(cached: readonly ClusterReport[], fleetFile: string, context: Parameters<typeof rejudge>[2], iterations: number) {
  const changed: number[] = [];
  const changedCpu: number[] = [];
  let after = 0;
  for (let i = 0; i < iterations; i++) {
    const c1 = cached[1];
    const idx = c1.fleetIndex!.findIndex((o) => o.kind === 'ServiceEntry');
    const se = structuredClone(c1.fleetIndex![idx]) as { spec: { endpoints: { address: string; labels: Record<string, string> }[] } };
    se.spec.endpoints = [...se.spec.endpoints, { address: `moved-${i}.internal`, labels: { cluster: `gone-${i}` } }];
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const index = [...c1.fleetIndex!];
    index[idx] = se as never;
    const next = [...cached];
    next[1] = { ...c1, fleetIndex: index };
    const report = rejudge(next, fleetFile, context);
    changed.push(ms(t0));
    changedCpu.push(cpuMs(c0));
    after = report.clusters.reduce((n, c) => n + c.findings.filter((f) => f.cluster).length, 0);
  }
  return { changed, changedCpu, after };
}

/** What the indexes hold on the heap (the run's child has --expose-gc): heap after a full GC with them, and without. */
function indexHeap(members: unknown[], cached: ClusterReport[]): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  members.length = 0;
  gc();
  const withIndex = process.memoryUsage().heapUsed;
  for (const c of cached) delete c.fleetIndex;
  gc();
  return Math.round(((withIndex - process.memoryUsage().heapUsed) / 2 ** 20) * 10) / 10;
}

async function rules(iterations: number) {
  const fleet = await loadFleet(join(OUT, 'fleet.yaml'));
  const layers = await loadLayers(fleet);
  // One shard of one: every cluster, with the index each keeps for the fleet rules (deferred, as for scan merge).
  const shard = await scanFleet(fleet, { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 8, shard: { index: 0, count: 1 } });
  const cached = shard.clusters;
  const members = cached.map((c) => ({ name: c.name, labels: c.labels, status: c.status, layers: c.layers, actions: c.fleetActions ?? {}, objects: c.fleetIndex ?? [] }));
  const fleetPolicies = builtinPolicies.filter(isFleetPolicy);
  const indexMs = await timeFleetIndexOf(fleet);
  const context = { parameters: fleet.parameters, actions: fleet.actions as Record<string, never> };
  const indexed = members.reduce((n, m) => n + m.objects.length, 0);
  const evaluate: number[] = [];
  const evaluateCpu: number[] = [];
  let findings = 0;
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    findings = evaluateFleet(fleetPolicies, members, context).findings.length;
    evaluate.push(ms(t0));
    evaluateCpu.push(cpuMs(c0));
  }
  const { changed, changedCpu, after } = rejudgeAfterChange(cached, fleet.file, context, iterations);
  const indexHeapMiB = indexHeap(members, cached);
  return {
    fleetIndexOfMs: Math.round(indexMs),
    indexedObjects: indexed,
    indexHeapMiB,
    fleetFindings: findings,
    fleetFindingsAfterChange: after,
    evaluateFleetMs: evaluate.map(Math.round),
    evaluateFleetCpuMs: evaluateCpu.map(Math.round),
    rejudgeMs: changed.map(Math.round),
    rejudgeCpuMs: changedCpu.map(Math.round),
  };
}

async function child(mode: string, iterations: number): Promise<void> {
  const t0 = process.hrtime.bigint();
  const info = mode === 'rules' ? await rules(iterations) : await scan(mode === 'scan');
  // CPU time (user + system) beside wall time: on a machine shared by eight engineers it is the steadier figure.
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ mode, ms: ms(t0), cpuMs: (cpu.user + cpu.system) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024, ...info }));
}

type Run = { ms: number; cpuMs: number; maxRssMiB: number };

/** The figures of a run: medians of the alternated scans, the in-process fleet pass, the load average. */
function summary(clusters: number, runs: number, results: Record<string, Run[]>, inProcess: Run & Record<string, unknown>, load: number[]) {
  const withMs = median(results.scan.map((r) => r.ms));
  const withoutMs = median(results['scan-nofleet'].map((r) => r.ms));
  const cpuWith = median(results.scan.map((r) => r.cpuMs));
  const cpuWithout = median(results['scan-nofleet'].map((r) => r.cpuMs));
  // The fleet rules' own time in the same run: the per-cluster index and the fleet pass (evaluateFleet + rescoring).
  const own = (inProcess.fleetIndexOfMs as number) + median(inProcess.evaluateFleetMs as number[]);
  const rssWith = median(results.scan.map((r) => r.maxRssMiB));
  const rssWithout = median(results['scan-nofleet'].map((r) => r.maxRssMiB));
  return {
    clusters,
    runs,
    scanMs: Math.round(withMs),
    scanNoFleetMs: Math.round(withoutMs),
    timeAddedPercent: Math.round(((withMs - withoutMs) / withoutMs) * 1000) / 10,
    scanCpuMs: Math.round(cpuWith),
    scanNoFleetCpuMs: Math.round(cpuWithout),
    cpuAddedPercent: Math.round(((cpuWith - cpuWithout) / cpuWithout) * 1000) / 10,
    fleetOwnMs: Math.round(own),
    fleetOwnPercentOfScan: Math.round((own / withoutMs) * 1000) / 10,
    scanPeakRssMiB: Math.round(rssWith),
    scanNoFleetPeakRssMiB: Math.round(rssWithout),
    rssAddedMiB: Math.round(rssWith - rssWithout),
    evaluateFleetMedianMs: median(inProcess.evaluateFleetMs as number[]),
    rejudgeMedianMs: median(inProcess.rejudgeMs as number[]),
    rejudgeMaxMs: Math.max(...(inProcess.rejudgeMs as number[])),
    evaluateFleetMedianCpuMs: median(inProcess.evaluateFleetCpuMs as number[]),
    rejudgeMedianCpuMs: median(inProcess.rejudgeCpuMs as number[]),
    rejudgeMaxCpuMs: Math.max(...(inProcess.rejudgeCpuMs as number[])),
    indexedObjects: inProcess.indexedObjects,
    indexHeapMiB: inProcess.indexHeapMiB,
    fleetFindings: inProcess.fleetFindings,
    fleetFindingsAfterChange: inProcess.fleetFindingsAfterChange,
    loadAverage: { min: Math.min(...load), max: Math.max(...load) },
    runsMs: { scan: results.scan.map((r) => Math.round(r.ms)), scanNoFleet: results['scan-nofleet'].map((r) => Math.round(r.ms)) },
    runsCpuMs: { scan: results.scan.map((r) => Math.round(r.cpuMs)), scanNoFleet: results['scan-nofleet'].map((r) => Math.round(r.cpuMs)) },
    runsRssMiB: { scan: results.scan.map((r) => Math.round(r.maxRssMiB)), scanNoFleet: results['scan-nofleet'].map((r) => Math.round(r.maxRssMiB)) },
  };
}


async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const arg = (name: string, fallback: number) => (args.includes(name) ? Number(args[args.indexOf(name) + 1]) : fallback);
  if (args[0] === '--child') return child(args[1], arg('--iterations', 5));
  // --rules-only: just the in-process figures (evaluateFleet, the re-judge, the indexes' heap).
  if (args.includes('--rules-only')) {
    await generate(arg('--clusters', 847));
    const self = fileURLToPath(import.meta.url);
    process.stdout.write(execFileSync(process.execPath, ['--expose-gc', self, '--child', 'rules'], { maxBuffer: 1 << 24 }).toString() + '\n');
    return;
  }
  const runs = arg('--runs', 5);
  const clusters = arg('--clusters', 847);
  process.stderr.write(`generating ${clusters} clusters into ${OUT} (once)...\n`);
  await generate(clusters);
  const self = fileURLToPath(import.meta.url);
  const run = (mode: string) =>
    JSON.parse(execFileSync(process.execPath, [...(mode === 'rules' ? ['--expose-gc'] : []), self, '--child', mode], { maxBuffer: 1 << 24 }).toString()) as { ms: number; cpuMs: number; maxRssMiB: number } & Record<string, unknown>;
  const results: Record<string, { ms: number; cpuMs: number; maxRssMiB: number }[]> = { scan: [], 'scan-nofleet': [] };
  const load: number[] = [];
  for (let i = 0; i < runs; i++) {
    for (const mode of i % 2 ? ['scan-nofleet', 'scan'] : ['scan', 'scan-nofleet']) {
      load.push(loadavg()[0]);
      const out = run(mode);
      results[mode].push(out);
      process.stderr.write(`run ${i + 1} ${mode}: ${JSON.stringify(out)} load ${loadavg()[0].toFixed(1)}\n`);
    }
  }
  load.push(loadavg()[0]);
  const inProcess = run('rules');
  process.stderr.write(`rules: ${JSON.stringify(inProcess)}\n`);
  process.stdout.write(`${JSON.stringify(summary(clusters, runs, results, inProcess, load))}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
