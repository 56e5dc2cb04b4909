/**
 * `fleetgate watch` against the API double on loopback: N clusters × ~500 objects with watch streams.
 *
 *   npx tsc -p . && node dist/bench/watch-bench.js [--clusters 100] [--rate 1000] [--seconds 30] [--probes 40] [--runs 3] [--sample 10]
 *
 * Per run: (1) `fleetgate scan` of the fleet (a child process) — the baseline; (2) `fleetgate watch` (a child
 * process) from start to /readyz 200 — the initial sync; (3) for `--seconds`, the double streams `--rate` MODIFIED
 * events/s spread over every cluster (pod label changes, each re-judged), while `--probes` times a drift is planted
 * on one cluster (a desired Deployment's image) and /metrics is polled until fleetgate_cluster_drift_objects shows
 * it: change → /metrics latency; (4) the watch's RSS after sync, every --sample seconds under load (a soak is a
 * long --seconds) and at the end (peak from /proc VmHWM); the watch streams open; the load average.
 * The double runs in this process, the watch and the scan in their own.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeObject } from '../src/index.js';
import { sampleObjects, startApiDouble } from '../testkit/api-double.js';
import { attachWatch } from '../testkit/api-watch.js';
import { machine, median } from './lib.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
const CLUSTERS = arg('clusters', 100);
const RATE = arg('rate', 1000);
const SECONDS = arg('seconds', 30);
const PROBES = arg('probes', 40);
const RUNS = arg('runs', 3);
/** During the load phase, the watch's RSS is sampled this often (s): a soak is a long --seconds. */
const SAMPLE = arg('sample', 10);
const BIN = new URL('../../bin/fleetgate', import.meta.url).pathname;

/**
 * ~530 objects: 24 tenant namespaces of 7 objects + 13 pods each, plus the system ones, and per tenant a Service
 * and a federated ServiceEntry whose endpoint names the next cluster of the fleet (which runs that Service): the
 * fleet rules have a mesh to judge, and in sync it has no finding.
 */
const objectsFor = (next: string) => [
  ...sampleObjects({ namespaces: 24, podsPerNamespace: 13 }),
  ...Array.from({ length: 24 }, (_, t) => {
    const ns = `tenant-${String(t).padStart(2, '0')}`;
    return [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${t}`, namespace: ns }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } },
      serviceEntry(ns, t, next),
    ];
  }).flat(),
];
function serviceEntry(ns: string, t: number, cluster: string): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ServiceEntry',
    metadata: { name: `svc-${t}-global`, namespace: ns },
    spec: { hosts: [`svc-${t}.${ns}.svc.cluster.global`], location: 'MESH_INTERNAL', resolution: 'DNS', ports: [{ number: 80, name: 'http', protocol: 'HTTP' }], endpoints: [{ address: `svc-${t}.${ns}.${cluster}.mesh`, locality: `europe/${cluster}`, labels: { cluster } }] },
  };
}

function node(args: string[]) {
  // the CLI as a user starts it (no test loaders in NODE_OPTIONS)
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'ignore', 'pipe'] });
}

function rssMb(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function run() {
  const api = await startApiDouble();
  const w = attachWatch(api, { logSize: 2000 });
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-watch-bench-'));
  try {
    const names = Array.from({ length: CLUSTERS }, (_, i) => `c${String(i).padStart(4, '0')}`);
    mkdirSync(join(dir, 'repo/base'), { recursive: true });
    const desired = objectsFor('none').filter((o) => ['Namespace', 'ResourceQuota', 'NetworkPolicy', 'Deployment'].includes(o.kind!));
    writeFileSync(join(dir, 'repo/base/objects.yaml'), desired.map((o) => stringify(o)).join('---\n'));
    const clusters = names.map((n, i) => {
      api.addCluster(n, { objects: objectsFor(names[(i + 1) % names.length]) });
      return { name: n, labels: { region: 'europe', type: 'edge', cohort: '1' }, source: { kubeconfig: api.writeKubeconfig(join(dir, `${n}.kubeconfig`), [n]), context: n } };
    });
    const fleet = join(dir, 'fleet.yaml');
    writeFileSync(fleet, stringify({ repo: './repo', layers: [{ path: 'base' }], owned: ['NetworkPolicy'], clusters }));
    const objects = api.cluster(names[0]).objects.length;

    // (1) the scan of the same fleet
    let t0 = performance.now();
    const scan = node(['scan', '--fleet', fleet, '--format', 'json', '--output', join(dir, 'scan.json'), '--concurrency', '16']);
    const scanCode = await new Promise((r) => scan.on('close', r));
    const scanMs = performance.now() - t0;

    // (2) the watch's initial sync
    const port = 20000 + Math.floor(Math.random() * 20000);
    t0 = performance.now();
    const watch = node(['watch', '--fleet', fleet, '--host', '127.0.0.1', '--port', String(port)]);
    let log = '';
    watch.stderr!.setEncoding('utf8').on('data', (d) => (log += d));
    const get = async (p: string) => {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${p}`);
        return { status: res.status, text: await res.text() };
      } catch {
        return { status: 0, text: '' };
      }
    };
    while ((await get('/readyz')).status !== 200) {
      if (watch.exitCode !== null) throw new Error(`watch exited: ${log}`);
      await sleep(100);
    }
    const syncMs = performance.now() - t0;
    const afterSync = rssMb(watch.pid!);
    const loadAtSync = loadavg().map((x) => Math.round(x * 10) / 10);

    // (3) background events at RATE/s over every cluster, and planted drifts on c0000 timed to /metrics
    let seq = 0;
    const pods = new Map(names.map((n) => [n, api.cluster(n).objects.filter((o) => o.kind === 'Pod')]));
    const tick = 10;
    const perTick = Math.max(1, Math.round((RATE * tick) / 1000));
    let sent = 0;
    const load = setInterval(() => {
      for (let i = 0; i < perTick; i++) {
        const n = names[seq % names.length];
        const list = pods.get(n)!;
        const base = list[seq % list.length];
        const p: KubeObject = { ...base, metadata: { ...base.metadata, labels: { ...base.metadata?.labels, 'bench/seq': String(seq++) } } };
        w.apply(n, 'MODIFIED', p);
        sent++;
      }
    }, tick);
    const probe = names[0];
    const web = api.cluster(probe).objects.find((o) => o.kind === 'Deployment' && o.metadata?.namespace === 'tenant-00')!;
    const latencies: number[] = [];
    const fleetLatencies: number[] = [];
    let timeouts = 0;
    const loadStart = performance.now();
    const samples: { s: number; rssMb: number }[] = [];
    const sampler = setInterval(() => samples.push({ s: Math.round((performance.now() - loadStart) / 1000), rssMb: rssMb(watch.pid!).rss }), SAMPLE * 1000);
    const interval = (SECONDS * 1000) / PROBES;
    const modified = async () => {
      const m = /fleetgate_cluster_drift_objects\{cluster="c0000",state="modified"\} (\d+)/.exec((await get('/metrics')).text);
      return m ? Number(m[1]) : -1;
    };
    const meshFindings = async () => {
      const m = /fleetgate_cluster_findings\{cluster="c0000",policy="mesh.global-endpoints-exist",[^}]*\} (\d+)/.exec((await get('/metrics')).text);
      return m ? Number(m[1]) : 0;
    };
    for (let i = 0; i < PROBES; i++) {
      // probes take turns: a drift planted or undone (one cluster re-judged), then a ServiceEntry pointed at a
      // cluster outside the fleet or back (the fleet rules re-run over all clusters)
      const fleetProbe = i % 4 >= 2;
      const want = i % 2 === 0 ? 1 : 0;
      const at = performance.now();
      if (fleetProbe) w.apply(probe, 'MODIFIED', serviceEntry('tenant-00', 0, want ? 'gone-cluster' : names[1 % names.length]));
      else {
        const d = structuredClone(web) as KubeObject;
        (d.spec as any).template.spec.containers[0].image = want ? `nginx:probe-${i}` : (web.spec as any).template.spec.containers[0].image;
        w.apply(probe, 'MODIFIED', d);
      }
      // a probe not seen within 60 s is counted (and timed at the cap), not fatal: a starved machine still reports
      while ((await (fleetProbe ? meshFindings() : modified())) !== want) {
        if (performance.now() - at > 60_000) {
          timeouts++;
          break;
        }
        await sleep(20);
      }
      (fleetProbe ? fleetLatencies : latencies).push(performance.now() - at);
      const next = loadStart + (i + 1) * interval;
      if (next > performance.now()) await sleep(next - performance.now());
    }
    clearInterval(load);
    clearInterval(sampler);
    const loadSeconds = (performance.now() - loadStart) / 1000;
    await sleep(500);
    const end = rssMb(watch.pid!);
    const metrics = (await get('/metrics')).text;
    const streams = w.open();
    const events = [...metrics.matchAll(/^fleetgate_watch_events_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    watch.kill('SIGTERM');
    const stopCode = await new Promise((r) => watch.on('close', r));
    latencies.sort((a, b) => a - b);
    fleetLatencies.sort((a, b) => a - b);
    const pctOf = (l: number[], q: number) => Math.round(l[Math.min(l.length - 1, Math.ceil(q * l.length) - 1)]);
    const pct = (q: number) => pctOf(latencies, q);
    return {
      clusters: CLUSTERS,
      objectsPerCluster: objects,
      scanMs: Math.round(scanMs),
      scanCode,
      syncMs: Math.round(syncMs),
      syncOverScan: Math.round((syncMs / scanMs) * 100) / 100,
      eventsPerSecond: Math.round(sent / loadSeconds),
      eventsReceived: events,
      probeP50Ms: pct(0.5),
      probeP99Ms: pct(0.99),
      probeMaxMs: Math.round(latencies[latencies.length - 1]),
      probeTimeouts: timeouts,
      fleetProbeP50Ms: pctOf(fleetLatencies, 0.5),
      fleetProbeP99Ms: pctOf(fleetLatencies, 0.99),
      rssAfterSyncMb: afterSync.rss,
      rssEndMb: end.rss,
      rssPeakMb: end.peak,
      watchStreams: streams,
      rssSamples: samples.map((x) => `${x.s}s:${x.rssMb}`).join(' '),
      loadAverage: { atSync: loadAtSync, atEnd: loadavg().map((x) => Math.round(x * 10) / 10) },
      stopCode,
    };
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const LOAD_AT_START = loadavg().map((x) => Math.round(x * 10) / 10);
const runs: Awaited<ReturnType<typeof run>>[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await run();
  runs.push(r);
  console.error(`run ${i + 1}: ${JSON.stringify(r)}`);
}
const med = (k: keyof (typeof runs)[number]) => median(runs.map((r) => Number(r[k])));
console.log(
  JSON.stringify(
    {
      machine: machine(),
      clusters: CLUSTERS,
      rate: RATE,
      seconds: SECONDS,
      loadAverageAtStart: LOAD_AT_START,
      median: { scanMs: med('scanMs'), syncMs: med('syncMs'), syncOverScan: med('syncOverScan'), probeP99Ms: med('probeP99Ms'), probeP50Ms: med('probeP50Ms'), fleetProbeP99Ms: med('fleetProbeP99Ms'), rssPeakMb: med('rssPeakMb'), eventsPerSecond: med('eventsPerSecond') },
      runs,
    },
    null,
    2,
  ),
);
