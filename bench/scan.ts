/**
 * Fleet scan benchmark (not a test). Generates a fleet of clusters x ~500 live objects (with a federated ServiceEntry
 * per tenant namespace, for the fleet-scope rules) as JSON snapshots (once, into
 * bench/out/scan-fleet, git-ignored, or --dir DIR), then for each fleet size, alternately, each a whole process (so
 * each peak RSS, from GNU time, is its own):
 *   baseline: read the first N clusters' snapshot files and JSON.parse them;
 *   scan:     `bin/fleetgate scan --fleet fleet-N.yaml --format json --output FILE` with every built-in policy
 *             (process start, desired state, drift, policies, fleet rules, scores, the streamed JSON report).
 * Usage: npx tsc -p . && node dist/bench/scan.js [--runs 3] [--big-runs 1] [--clusters 100,847,2000,10000] [--dir DIR]
 *        [--jobs 1,2] [--compare DIR]
 * `--jobs LIST` runs the scan once per value of `scan --jobs` each round (default: the scan's own default);
 * `--compare DIR` also runs another built checkout's scan (DIR/bin/fleetgate, its own defaults) in the same rounds.
 * Each variant's figures are in the point's `variants`; the first variant's are also the point's own.
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { machine, median } from './lib.js';

export const OUT = fileURLToPath(new URL('../../bench/out/scan-fleet/', import.meta.url));
const NAMESPACES = 20;

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function tenant(ns: string) {
  return [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { team: ns, 'istio-injection': 'enabled' } } },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny', namespace: ns }, spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] } },
    { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota', namespace: ns }, spec: { hard: { 'requests.cpu': '8', 'requests.memory': '16Gi', 'limits.cpu': '8', 'limits.memory': '16Gi', pods: '50' } } },
    { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'defaults', namespace: ns }, spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }] } },
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'devs', namespace: ns }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' }, subjects: [{ kind: 'Group', name: `team-${ns}`, apiGroup: 'rbac.authorization.k8s.io' }] },
  ];
}

function podSpec(name: string, r: () => number) {
  return {
    containers: [
      {
        name,
        image: `registry.example/${name}:1.${Math.floor(r() * 20)}.0`,
        ports: [{ containerPort: 8080, protocol: 'TCP' }],
        resources: r() < 0.9 ? { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '1', memory: '512Mi' } } : {},
        securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
        imagePullPolicy: 'IfNotPresent',
        terminationMessagePath: '/dev/termination-log',
      },
    ],
    restartPolicy: 'Always',
    dnsPolicy: 'ClusterFirst',
    ...(r() < 0.02 ? { hostNetwork: true } : {}),
  };
}

function server(o: Record<string, unknown>, i: number) {
  const m = o.metadata as Record<string, unknown>;
  m.uid = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
  m.resourceVersion = String(1000 + i);
  m.creationTimestamp = '2025-01-01T00:00:00Z';
  m.managedFields = [{ manager: 'argocd', operation: 'Apply', apiVersion: o.apiVersion, time: '2025-01-01T00:00:00Z', fieldsType: 'FieldsV1', fieldsV1: {} }];
  return o;
}

const LOCALITY = ['eu-west-1', 'ap-southeast-1', 'us-east-1'];
/** Bumped when what a cluster's snapshot holds changes: an older bench/out cluster is generated again. */
const GENERATION = 'mesh-1';

/**
 * The federated mesh (fleet-scope rules): per tenant namespace a `*.global` ServiceEntry importing app-0 from two
 * earlier clusters of the same region (which run it), and for 1% of them a stale endpoint naming a cluster that is
 * not in the fleet. It depends on the cluster's own index only, so any first N clusters form a consistent fleet.
 */
function serviceEntry(c: number, ns: string, n: number, r: () => number) {
  const region = c % 3;
  const peers: string[] = [c >= 3 ? c - 3 : c + 3, c >= 6 ? c - 6 : c + 6].map((p) => `c${p}`);
  if (r() < 0.01) peers.push(`gone-${n}`);
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: { name: 'app-0-global', namespace: ns },
    spec: {
      hosts: [`app-0.${ns}.svc.cluster.global`],
      location: 'MESH_INTERNAL',
      resolution: 'DNS',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      endpoints: peers.map((p) => ({ address: `app-0.${ns}.${p}.internal`, locality: `${LOCALITY[region]}/${p}`, labels: { cluster: p } })),
    },
  };
}

/** Generates clusters c0..c(N-1) into `dir` (those already there are kept: each cluster is deterministic) and a
 * `fleet-N.yaml` naming the first N; `fleet.yaml` names all N (bench/history-bench.ts reads it). */
export async function generate(clusters: number, dir = OUT): Promise<void> {
  await mkdir(join(dir, 'repo', 'base'), { recursive: true });
  await mkdir(join(dir, 'repo', 'overlays', 'edge'), { recursive: true });
  const base = Array.from({ length: NAMESPACES }, (_, i) => tenant(`tenant-${i}`)).flat();
  await writeFile(join(dir, 'repo', 'base', 'tenants.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: base }));
  await writeFile(join(dir, 'repo', 'overlays', 'edge', 'quota.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota', namespace: 'tenant-0' }, spec: { hard: { pods: '20' } } }));
  const lines = ['repo: ./repo', 'owned: [NetworkPolicy]', 'layers:', '  - path: base', '  - path: overlays/edge', '    when: { type: edge }', 'clusters:'];
  for (let c = 0; c < clusters; c++) {
    const type = c % 3 === 0 ? 'edge' : 'transit';
    lines.push(`  - name: c${c}`, `    labels: { region: ${['europe', 'apac', 'americas'][c % 3]}, type: ${type}, cohort: "${c % 4}" }`, `    source: { snapshot: clusters/c${c} }`);
    const done = join(dir, 'clusters', `c${c}`, '.complete');
    if (!existsSync(done) || readFileSync(done, 'utf8') !== GENERATION) await writeCluster(join(dir, 'clusters', `c${c}`), c, type, base);
  }
  await writeFile(join(dir, `fleet-${clusters}.yaml`), `${lines.join('\n')}\n`);
  await writeFile(join(dir, 'fleet.yaml'), `${lines.join('\n')}\n`);
}

async function writeCluster(dir: string, c: number, type: string, base: Record<string, unknown>[]): Promise<void> {
  const r = rng(c + 1);
  const objs: Record<string, unknown>[] = [];
  let i = 0;
  for (const o of base) {
    const copy = JSON.parse(JSON.stringify(o)) as Record<string, any>;
    if (type === 'edge' && copy.kind === 'ResourceQuota' && copy.metadata.namespace === 'tenant-0') copy.spec.hard.pods = '20';
    if (r() < 0.01) continue; // missing
    if (copy.kind === 'ResourceQuota' && r() < 0.05) copy.spec.hard.pods = '500'; // modified
    copy.metadata.labels = { ...(copy.metadata.labels ?? {}), 'argocd.argoproj.io/instance': `c${c}` };
    objs.push(server(copy, i++));
  }
  const mesh = rng(c + 100_000); // its own sequence: the rest of the cluster is what it was before the mesh
  for (let n = 0; n < NAMESPACES; n++) {
    const ns = `tenant-${n}`;
    objs.push(server(serviceEntry(c, ns, n, mesh), i++));
    for (let d = 0; d < 6; d++) {
      const name = `app-${d}`;
      // app-0 is critical: fleet.blast-radius counts it per region.
      const labels = d === 0 ? { app: name, 'fleetgate.io/critical': 'true' } : { app: name };
      objs.push(server({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: ns, labels }, spec: { replicas: 2, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: podSpec(name, r) } }, status: { replicas: 2, readyReplicas: 2 } }, i++));
      objs.push(server({ apiVersion: 'v1', kind: 'Pod', metadata: { name: `${name}-7d9f8-x${d}`, namespace: ns, labels: { app: name }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${name}-7d9f8`, uid: 'x', controller: true }] }, spec: podSpec(name, r), status: { phase: 'Running' } }, i++));
      objs.push(server({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config`, namespace: ns }, data: { 'app.properties': `mode=prod\nreplicas=2\nname=${name}\n` } }, i++));
      if (d < 2) objs.push(server({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080, protocol: 'TCP' }], type: 'ClusterIP' } }, i++));
    }
  }
  await mkdir(dir, { recursive: true });
  const byKind = new Map<string, unknown[]>();
  for (const o of objs) {
    const k = String(o.kind).toLowerCase();
    if (!byKind.has(k)) byKind.set(k, []);
    byKind.get(k)!.push(o);
  }
  for (const [k, items] of byKind) await writeFile(join(dir, `${k}.json`), JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }));
  await writeFile(join(dir, '.complete'), GENERATION);
}

/** The baseline: read the first `clusters` clusters' snapshot files and JSON.parse each. */
async function baseline(dir: string, clusters: number): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  for (let c = 0; c < clusters; c++) {
    const cdir = join(dir, 'clusters', `c${c}`);
    for (const f of (await readdir(cdir)).filter((x) => x.endsWith('.json')).sort()) {
      const text = await readFile(join(cdir, f), 'utf8');
      bytes += text.length;
      objects += (JSON.parse(text) as { items: unknown[] }).items.length;
    }
  }
  return { objects, bytes };
}

const BIN = fileURLToPath(new URL('../../bin/fleetgate', import.meta.url));

interface Point {
  clusters: number;
  runs: number;
  baselineMs: number;
  scanMs: number;
  ratio: number;
  baselineCpuMs: number;
  scanCpuMs: number;
  /** CPU time ratio: far less sensitive than wall time to a shared machine's load. */
  cpuRatio: number;
  baselinePeakRssMiB: number;
  scanPeakRssMiB: number;
  reportMiB: number;
  score: number | null;
  load: string;
  variants?: VariantPoint[];
}

/** A whole process: wall time, CPU time (user + system) and peak RSS, from GNU time. */
function run(args: string[]): { ms: number; cpuMs: number; rssMiB: number } {
  const start = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M %U %S', process.execPath, ...args], { encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.slice(-500)}`);
  const [kb, user, sys] = r.stderr.trim().split('\n').pop()!.split(' ').map(Number);
  return { ms, cpuMs: (user + sys) * 1000, rssMiB: kb / 1024 };
}

/** A scan to measure: a label, the fleetgate to run and its extra arguments. */
interface Variant {
  label: string;
  bin: string;
  args: string[];
}

interface VariantPoint {
  label: string;
  scanMs: number;
  ratio: number;
  scanCpuMs: number;
  cpuRatio: number;
  scanPeakRssMiB: number;
  runs: { ms: number; cpuMs: number; rssMiB: number }[];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

// Long: one round loop over the baseline and every variant, then the medians and the report's head
/** One fleet size: baseline and each variant's `fleetgate scan --format json` alternately, each a whole process. */
function measure(dir: string, clusters: number, runs: number, variants: readonly Variant[]): Point {
  const self = fileURLToPath(import.meta.url);
  const out = join(tmpdir(), `fleetgate-bench-scan-${process.pid}.json`);
  const b: ReturnType<typeof run>[] = [];
  const s: ReturnType<typeof run>[][] = variants.map(() => []);
  const loads: number[] = [];
  for (let i = 0; i < runs; i++) {
    loads.push(loadavg()[0]);
    b.push(run([self, '--child', dir, String(clusters)]));
    const line = [`  ${clusters} clusters, run ${i + 1}: baseline ${Math.round(b[i].ms)} ms (cpu ${Math.round(b[i].cpuMs)}) ${Math.round(b[i].rssMiB)} MiB`];
    for (const [v, variant] of variants.entries()) {
      if (v) rmSync(out, { force: true });
      s[v].push(run([variant.bin, 'scan', '--fleet', join(dir, `fleet-${clusters}.yaml`), '--format', 'json', '--output', out, '--progress-interval', '600', ...variant.args]));
      const r = s[v][i];
      line.push(`${variant.label} ${Math.round(r.ms)} ms (cpu ${Math.round(r.cpuMs)}) ${Math.round(r.rssMiB)} MiB`);
    }
    process.stderr.write(`${line.join('; ')}; load ${loads[i].toFixed(1)}\n`);
  }
  // The report can be far larger than a string may be (5 GB at 10,000 clusters): its head says the score.
  const bytes = statSync(out).size;
  const fd = openSync(out, 'r');
  const headBuf = Buffer.alloc(200);
  readSync(fd, headBuf, 0, 200, 0);
  closeSync(fd);
  rmSync(out, { force: true });
  const m = /"score": (null|[0-9.]+)/.exec(headBuf.toString('utf8'));
  const score = !m || m[1] === 'null' ? null : Number(m[1]);
  const bm = median(b.map((r) => r.ms));
  const bc = median(b.map((r) => r.cpuMs));
  const points: VariantPoint[] = variants.map((variant, v) => {
    const sm = median(s[v].map((r) => r.ms));
    const sc = median(s[v].map((r) => r.cpuMs));
    return {
      label: variant.label,
      scanMs: Math.round(sm),
      ratio: round2(sm / bm),
      scanCpuMs: Math.round(sc),
      cpuRatio: round2(sc / bc),
      scanPeakRssMiB: Math.round(Math.max(...s[v].map((r) => r.rssMiB))),
      runs: s[v].map((r) => ({ ms: Math.round(r.ms), cpuMs: Math.round(r.cpuMs), rssMiB: Math.round(r.rssMiB) })),
    };
  });
  const first = points[0];
  return {
    clusters,
    runs,
    baselineMs: Math.round(bm),
    scanMs: first.scanMs,
    ratio: first.ratio,
    baselineCpuMs: Math.round(bc),
    scanCpuMs: first.scanCpuMs,
    cpuRatio: first.cpuRatio,
    baselinePeakRssMiB: Math.round(Math.max(...b.map((r) => r.rssMiB))),
    scanPeakRssMiB: first.scanPeakRssMiB,
    reportMiB: Math.round((bytes / 2 ** 20) * 10) / 10,
    score,
    load: `${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`,
    ...(variants.length > 1 ? { variants: points } : {}),
  };
}

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') {
    const info = await baseline(args[1], Number(args[2]));
    process.stdout.write(JSON.stringify(info));
    return;
  }
  const runs = Number(flag(args, '--runs')) || 3;
  const dir = flag(args, '--dir') ?? OUT;
  const sizes = (flag(args, '--clusters') ?? '847').split(',').map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--clusters takes a comma-separated list of fleet sizes, e.g. 100,847,2000,10000');
  // Big points take minutes per run on 2 cores: `--big-runs N` runs sizes of 2,000 clusters and more N times instead.
  const bigRuns = Number(flag(args, '--big-runs')) || runs;
  process.stderr.write(`generating ${Math.max(...sizes)} clusters into ${dir} (once; existing clusters are kept)...\n`);
  for (const n of [...sizes].sort((x, y) => x - y)) await generate(n, dir);
  process.stderr.write(`${machine()}\n`);
  const points: Point[] = [];
  const jobs = flag(args, '--jobs')?.split(',') ?? [];
  const variants: Variant[] = jobs.length ? jobs.map((j) => ({ label: `jobs ${j}`, bin: BIN, args: ['--jobs', j] })) : [{ label: 'scan', bin: BIN, args: [] }];
  const compare = flag(args, '--compare');
  if (compare) variants.push({ label: `compare (${compare})`, bin: join(compare, 'bin', 'fleetgate'), args: [] });
  for (const n of sizes) points.push(measure(dir, n, n >= 2000 ? bigRuns : runs, variants));
  for (const p of points) process.stdout.write(`${JSON.stringify(p)}\n`);
  if (points.length > 1) {
    const [lo, hi] = [points[0], points[points.length - 1]];
    const perCluster = ((hi.scanPeakRssMiB - lo.scanPeakRssMiB) * 1024) / (hi.clusters - lo.clusters);
    process.stdout.write(`${JSON.stringify({ growthKiBPerCluster: Math.round(perCluster * 10) / 10, from: lo.clusters, to: hi.clusters })}\n`);
  }
}

// bench/history-bench.ts imports the generator; run the benchmark only when started as a program.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
