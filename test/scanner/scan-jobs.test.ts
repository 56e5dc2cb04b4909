import t from 'tap';
import { builtinPolicies } from '../../policies/index.js';
import { DesiredState, loadLayers } from '../../scanner/desired.js';
import { loadFleet, type Fleet } from '../../scanner/fleet.js';
import type { Output } from '../../scanner/output.js';
import { availableParallelism } from 'node:os';
import { defaultJobs, usableCores } from '../../scanner/scan-pool.js';
import type { ScanOptions } from '../../scanner/scan.js';
import { streamScan, type StreamedReport } from '../../scanner/stream.js';
import { writeReport, type ReportFormat } from '../../scanner/writers.js';

/**
 * `scan --jobs N` (scanner/scan-pool.ts): clusters judged in worker threads give the report `--jobs 1` gives, byte
 * for byte in every format (the main thread writes it, in fleet order, from the same spooled records), and the
 * JSON writer's copy of the spooled bytes (scanner/record.ts) is the JSON.stringify of the parsed reports.
 */

const EXAMPLE = 'examples/fleet/fleet.yaml';

/** An Output that keeps what it is given. */
function memory(): Output & { text(): string } {
  const parts: Buffer[] = [];
  return {
    write: async (x) => void parts.push(typeof x === 'string' ? Buffer.from(x) : Buffer.from(x)),
    done: async () => undefined,
    abort: async () => undefined,
    text: () => Buffer.concat(parts).toString('utf8'),
  };
}

async function written(scan: StreamedReport, format: ReportFormat, spooledJson = true): Promise<string> {
  const out = memory();
  const time = new Date('2026-12-01T00:00:00Z');
  await writeReport(format, out, scan.head, scan.clusters(), { passes: true, html: { time, commit: null }, json: format === 'json' && spooledJson ? scan.json() : undefined });
  return out.text();
}

async function inputs(file: string): Promise<{ fleet: Fleet; opts: ScanOptions }> {
  const fleet = await loadFleet(file);
  const layers = await loadLayers(fleet);
  return { fleet, opts: { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 3, now: new Date('2026-12-01T00:00:00Z') } };
}

t.test('--jobs 2 writes the --jobs 1 report in every format (example fleet, with its fleet rules)', async (t) => {
  const { fleet, opts } = await inputs(EXAMPLE);
  const one = await streamScan(fleet, opts);
  t.teardown(() => one.close());
  const two = await streamScan(fleet, { ...opts, workers: { jobs: 2, policies: { builtins: true, paths: [] } } });
  t.teardown(() => two.close());
  t.ok(one.head.fleetRules?.rules.length, 'the example fleet runs fleet-scope rules');
  t.same(two.head, one.head, 'the same head (scores, summary, fleet rules)');
  for (const format of ['json', 'pretty', 'html', 'policyreport', 'openreports'] as const) t.equal(await written(two, format), await written(one, format), format);
  const json = await written(one, 'json');
  t.equal(json, await written(one, 'json', false), 'the spooled JSON bytes (spliced where fleet rules changed a cluster) are the parsed reports stringified');
  const parsed = JSON.parse(json) as { clusters: { name: string; status: string }[] };
  t.same(parsed.clusters.map((c) => c.name), fleet.clusters.map((c) => c.name), 'fleet order');
});

t.test('the default --jobs: a thread per core, at most one per 16 snapshot clusters', async (t) => {
  const snap = (n: number) => Array.from({ length: n }, () => ({ source: { snapshot: 'x' } }));
  const live = (n: number) => Array.from({ length: n }, () => ({ source: { kubeconfig: 'k' } }));
  t.equal(defaultJobs({ clusters: snap(15) } as never, 8), 1, 'a small fleet stays on the main thread');
  t.equal(defaultJobs({ clusters: snap(32) } as never, 8), 2);
  t.equal(defaultJobs({ clusters: snap(847) } as never, 2), 2, 'no more threads than cores');
  t.equal(defaultJobs({ clusters: [...live(100), ...snap(20)] } as never, 8), 1, 'live clusters do not count (their reads are waiting, not work)');
  t.equal(defaultJobs({ clusters: [] } as never, 8), 1);
});

t.test('the cores a scan counts: no more than its cgroup CPU quota (a container limit)', async (t) => {
  const cpus = availableParallelism();
  const files = (m: Record<string, string>) => (f: string) => m[f];
  t.equal(usableCores(files({})), cpus, 'no cgroup files: the CPUs');
  t.equal(usableCores(files({ '/sys/fs/cgroup/cpu.max': 'max 100000\n' })), cpus, 'cgroup v2 without a quota');
  t.equal(usableCores(files({ '/sys/fs/cgroup/cpu.max': '50000 100000\n' })), 1, 'half a CPU: one');
  t.equal(usableCores(files({ '/sys/fs/cgroup/cpu.max': `${150000 * 64} 100000` })), cpus, 'never more than the CPUs');
  t.equal(usableCores(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), cpus, 'cgroup v1 without a quota');
  t.equal(usableCores(files({ '/sys/fs/cgroup/cpu/cpu.cfs_quota_us': '100000', '/sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' })), 1, 'cgroup v1: one CPU');
});

t.test('a worker that cannot start fails the scan', async (t) => {
  const { fleet, opts } = await inputs(EXAMPLE);
  // the worker loads no built-in packs: not the main thread's policies
  await t.rejects(streamScan(fleet, { ...opts, workers: { jobs: 2, policies: { builtins: false, paths: [] } } }), /scan worker thread could not start: the worker loaded other policies than the scan/);
});
