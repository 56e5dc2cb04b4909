/**
 * Fleet scan benchmark (not a test). Generates a fleet of 847 clusters x ~500 live objects (with a federated
 * ServiceEntry per tenant namespace) as JSON snapshots under bench/out/scan-fleet (git-ignored), then, in separate child processes so each peak RSS is its own:
 *   baseline: read every snapshot file and JSON.parse it;
 *   scan:     the whole fleet scan with every built-in policy (desired state, drift, policies, scores, JSON report).
 * Usage: npx tsc -p . && node dist/bench/scan.js [--runs 3] [--clusters 847]
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtinPolicies } from '../policies/index.js';
import { DesiredState, loadLayers } from '../scanner/desired.js';
import { loadFleet } from '../scanner/fleet.js';
import { formatJson } from '../scanner/report.js';
import { scanFleet } from '../scanner/scan.js';

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

/**
 * The federated mesh (fleet-scope rules): per tenant namespace a `*.global` ServiceEntry importing app-0 from the
 * next two clusters of the same region (which run it), and for 1% of them a stale endpoint naming a cluster that is
 * not in the fleet. Its own random sequence, so the rest of the fleet is what it was before the mesh was added.
 */
function serviceEntry(c: number, clusters: number, ns: string, n: number, r: () => number) {
  const region = c % 3;
  const peers = [c + 3 < clusters ? c + 3 : region, c + 6 < clusters ? c + 6 : region + 3];
  if (r() < 0.01) peers.push(clusters + n);
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: { name: 'app-0-global', namespace: ns },
    spec: {
      hosts: [`app-0.${ns}.svc.cluster.global`],
      location: 'MESH_INTERNAL',
      resolution: 'DNS',
      ports: [{ number: 80, name: 'http', protocol: 'HTTP' }],
      endpoints: peers.map((p) => ({ address: `app-0.${ns}.c${p}.internal`, locality: `${LOCALITY[region]}/c${p}`, labels: { cluster: `c${p}` } })),
    },
  };
}

export async function generate(clusters: number): Promise<void> {
  // serviceentry.json marks a fleet generated with the mesh: an older bench/out is generated again.
  if (existsSync(join(OUT, 'fleet.yaml')) && existsSync(join(OUT, 'clusters', `c${clusters - 1}`, 'serviceentry.json'))) return;
  await mkdir(join(OUT, 'repo', 'base'), { recursive: true });
  await mkdir(join(OUT, 'repo', 'overlays', 'edge'), { recursive: true });
  const base = Array.from({ length: NAMESPACES }, (_, i) => tenant(`tenant-${i}`)).flat();
  await writeFile(join(OUT, 'repo', 'base', 'tenants.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: base }));
  await writeFile(join(OUT, 'repo', 'overlays', 'edge', 'quota.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota', namespace: 'tenant-0' }, spec: { hard: { pods: '20' } } }));
  const lines = ['repo: ./repo', 'owned: [NetworkPolicy]', 'layers:', '  - path: base', '  - path: overlays/edge', '    when: { type: edge }', 'clusters:'];
  for (let c = 0; c < clusters; c++) {
    const r = rng(c + 1);
    const type = c % 3 === 0 ? 'edge' : 'transit';
    lines.push(`  - name: c${c}`, `    labels: { region: ${['europe', 'apac', 'americas'][c % 3]}, type: ${type}, cohort: "${c % 4}" }`, `    source: { snapshot: clusters/c${c} }`);
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
    const mesh = rng(c + 100_000);
    for (let n = 0; n < NAMESPACES; n++) {
      const ns = `tenant-${n}`;
      objs.push(server(serviceEntry(c, clusters, ns, n, mesh), i++));
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
    const dir = join(OUT, 'clusters', `c${c}`);
    await mkdir(dir, { recursive: true });
    const byKind = new Map<string, unknown[]>();
    for (const o of objs) {
      const k = String(o.kind).toLowerCase();
      if (!byKind.has(k)) byKind.set(k, []);
      byKind.get(k)!.push(o);
    }
    for (const [k, items] of byKind) await writeFile(join(dir, `${k}.json`), JSON.stringify({ apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: '' }, items }));
  }
  await writeFile(join(OUT, 'fleet.yaml'), `${lines.join('\n')}\n`);
}

async function baseline(): Promise<{ objects: number; bytes: number }> {
  let objects = 0;
  let bytes = 0;
  const root = join(OUT, 'clusters');
  for (const c of (await readdir(root)).sort()) {
    for (const f of (await readdir(join(root, c))).sort()) {
      const text = await readFile(join(root, c, f), 'utf8');
      bytes += text.length;
      objects += (JSON.parse(text) as { items: unknown[] }).items.length;
    }
  }
  return { objects, bytes };
}

async function scan(): Promise<{ score: number | null; clusters: number; reportBytes: number }> {
  const fleet = await loadFleet(join(OUT, 'fleet.yaml'));
  const layers = await loadLayers(fleet);
  const report = await scanFleet(fleet, { policies: builtinPolicies, desired: new DesiredState(layers.layers), concurrency: 8 });
  const text = formatJson(report);
  return { score: report.score, clusters: report.clusters.length, reportBytes: text.length };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function child(mode: string): Promise<void> {
  const t0 = process.hrtime.bigint();
  const info = mode === 'baseline' ? await baseline() : await scan();
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  process.stdout.write(JSON.stringify({ mode, ms, maxRssMiB: process.resourceUsage().maxRSS / 1024, ...info }));
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === '--child') return child(args[1]);
  const runs = Number(args[args.indexOf('--runs') + 1]) || 3;
  const clusters = args.includes('--clusters') ? Number(args[args.indexOf('--clusters') + 1]) : 847;
  process.stderr.write(`generating ${clusters} clusters into ${OUT} (once)...\n`);
  await generate(clusters);
  const self = fileURLToPath(import.meta.url);
  const results: Record<string, { ms: number; maxRssMiB: number }[]> = { baseline: [], scan: [] };
  for (let i = 0; i < runs; i++) {
    for (const mode of ['baseline', 'scan']) {
      const out = JSON.parse(execFileSync(process.execPath, [self, '--child', mode], { maxBuffer: 1 << 20 }).toString()) as { ms: number; maxRssMiB: number };
      results[mode].push(out);
      process.stderr.write(`run ${i + 1} ${mode}: ${JSON.stringify(out)}\n`);
    }
  }
  const b = median(results.baseline.map((r) => r.ms));
  const s = median(results.scan.map((r) => r.ms));
  const rss = Math.max(...results.scan.map((r) => r.maxRssMiB));
  process.stdout.write(
    `${JSON.stringify({ clusters, runs, baselineMs: Math.round(b), scanMs: Math.round(s), ratio: Math.round((s / b) * 100) / 100, scanPeakRssMiB: Math.round(rss), baselinePeakRssMiB: Math.round(Math.max(...results.baseline.map((r) => r.maxRssMiB))) })}\n`,
  );
}

// bench/history-bench.ts imports the generator; run the benchmark only when started as a program.
if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
