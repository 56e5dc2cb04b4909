/**
 * `fleetgate watch` against the API double on loopback: N clusters × ~530 objects with watch streams.
 *
 *   npx tsc -p . && node dist/bench/watch-bench.js [--clusters 100] [--rate 1000] [--seconds 30] [--probes 40]
 *       [--runs 3] [--sample 10] [--doubles 1] [--protocols h2,http/1.1] [--no-scan]
 *       [--watch-heap MB] [--watch-node "NODE FLAGS"] [--watch-stdout FILE] [--watch-args "ARGS"] [--poll-ms 20]
 *
 * Per run: (1) `fleetgate scan` of the fleet (a child process) — the baseline (skipped with --no-scan); then for each
 * of --protocols (the double offering HTTP/2 through ALPN, or HTTP/1.1 only: the watch's transport before and after,
 * in the same run): (2) `fleetgate watch` (a child process) from start to /readyz 200 — the initial sync; (3) for
 * `--seconds`, the double streams `--rate` MODIFIED events/s spread over every cluster (pod label changes, each
 * re-judged), while `--probes` times a drift is planted on one cluster (a desired Deployment's image) or its
 * ServiceEntry pointed away (the fleet rules) and /metrics is polled until it shows: change → /metrics latency;
 * (4) the watch's RSS after sync, every --sample seconds under load (a soak is a long --seconds) and at the end
 * (peak from /proc VmHWM); the watch streams and connections open; the load average.
 * The double and the event generator run in --doubles processes of their own (bench/watch-load.ts), the watch and
 * the scan in theirs; this process only times and polls.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { machine, median } from './lib.js';
import { desiredObjects, type LoadMessage } from './watch-load.js';

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
const DOUBLES = arg('doubles', 1);
/** How often a probe polls /metrics (ms): each poll renders the whole fleet's text, so a tight poll loads the watch. */
const POLL_MS = arg('poll-ms', 20);
const NO_SCAN = process.argv.includes('--no-scan');
const PROTOCOLS = (process.argv.includes('--protocols') ? process.argv[process.argv.indexOf('--protocols') + 1] : 'h2').split(',');
const BIN = new URL('../../bin/fleetgate', import.meta.url).pathname;
const LOAD = fileURLToPath(new URL('./watch-load.js', import.meta.url));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round1 = (xs: number[]) => xs.map((x) => Math.round(x * 10) / 10);
const pct = (l: number[], q: number) => {
  if (!l.length) return null;
  const sorted = [...l].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]);
};
const epochMs = () => performance.timeOrigin + performance.now();

/** `--watch-heap MB`: the watch's V8 old-space limit, as a container's NODE_OPTIONS would set it (default: V8's own). */
const WATCH_HEAP = process.argv.includes('--watch-heap') ? Number(process.argv[process.argv.indexOf('--watch-heap') + 1]) : undefined;
/**
 * `--watch-node "FLAGS"`: more node flags for the watch process, split on spaces (e.g. "--max-semi-space-size=32",
 * the chart's watch.maxSemiSpaceSizeMb); `--watch-stdout FILE`: where the watch's stdout goes (default: nowhere),
 * e.g. to keep what --trace-gc prints.
 */
const strArg = (name: string) => (process.argv.includes(`--${name}`) ? process.argv[process.argv.indexOf(`--${name}`) + 1] : undefined);
const WATCH_NODE = (strArg('watch-node') ?? '').split(' ').filter(Boolean);
const WATCH_STDOUT = strArg('watch-stdout');
/** `--watch-args "ARGS"`: more `fleetgate watch` arguments, split on spaces (e.g. "--watch-timeout 60"). */
const WATCH_ARGS = (strArg('watch-args') ?? '').split(' ').filter(Boolean);

function node(args: string[], nodeArgs: string[] = [], stdout: 'ignore' | number = 'ignore') {
  // the CLI as a user starts it (no test loaders in NODE_OPTIONS)
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return spawn(process.execPath, [...nodeArgs, BIN, ...args], { env, stdio: ['ignore', stdout, 'pipe'] });
}

function rssMb(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0);
  return { rss: Math.round(kb('VmRSS') / 1024), peak: Math.round(kb('VmHWM') / 1024) };
}

/** The load processes, each serving its share of the clusters (round robin), and the fleet file naming them all. */
class Doubles {
  readonly procs: ChildProcess[] = [];
  readonly owner = new Map<string, ChildProcess>();
  objects = 0;

  static async start(names: string[], dir: string, http2: boolean): Promise<{ doubles: Doubles; fleet: string }> {
    const d = new Doubles();
    const kubeconfigs: Record<string, string> = {};
    await Promise.all(
      Array.from({ length: DOUBLES }, async (_, k) => {
        const mine = names.filter((_, i) => i % DOUBLES === k);
        const p = fork(LOAD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
        d.procs.push(p);
        for (const n of mine) d.owner.set(n, p);
        p.send({ op: 'start', names, mine, dir, http2 } satisfies LoadMessage);
        const ready = (await d.reply(p, 'ready')) as { kubeconfigs: Record<string, string>; objects: number };
        Object.assign(kubeconfigs, ready.kubeconfigs);
        d.objects = ready.objects;
      }),
    );
    const clusters = names.map((n) => ({ name: n, labels: { region: 'europe', type: 'edge', cohort: '1' }, source: { kubeconfig: kubeconfigs[n], context: n } }));
    const fleet = join(dir, 'fleet.yaml');
    writeFileSync(fleet, stringify({ repo: './repo', layers: [{ path: 'base' }], owned: ['NetworkPolicy'], clusters }));
    return { doubles: d, fleet };
  }

  reply(p: ChildProcess, op: string): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const on = (m: { op: string }) => {
        if (m.op !== op) return;
        p.off('message', on);
        resolve(m as Record<string, unknown>);
      };
      p.on('message', on);
    });
  }

  send(m: LoadMessage, cluster?: string): void {
    for (const p of cluster ? [this.owner.get(cluster)!] : this.procs) p.send(m);
  }

  async stats(): Promise<{ sent: number; seconds: number; streams: number; connections: Record<string, number>; loopP99Ms: number; loopMaxMs: number }> {
    const all = await Promise.all(this.procs.map((p) => (p.send({ op: 'stats' } satisfies LoadMessage), this.reply(p, 'stats'))));
    const connections: Record<string, number> = {};
    for (const s of all) for (const [k, v] of Object.entries(s.connections as Record<string, number>)) connections[k] = (connections[k] ?? 0) + v;
    const most = (k: string) => Math.round(Math.max(...all.map((s) => Number(s[k]))));
    return { sent: all.reduce((a, s) => a + Number(s.sent), 0), seconds: Math.max(...all.map((s) => Number(s.seconds))), streams: all.reduce((a, s) => a + Number(s.streams), 0), connections, loopP99Ms: most('loopP99Ms'), loopMaxMs: most('loopMaxMs') };
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => new Promise((r) => (p.once('exit', r), p.send({ op: 'stop' } satisfies LoadMessage)))));
  }
}

/** `fleetgate scan` of the fleet as a child process: the baseline the sync is held to. */
async function scanBaseline(fleet: string, dir: string): Promise<{ scanMs: number; scanCode: unknown }> {
  const t0 = performance.now();
  const scan = node(['scan', '--fleet', fleet, '--format', 'json', '--output', join(dir, 'scan.json'), '--concurrency', '16']);
  // read its log: an unread pipe fills up (progress lines) and the scan, its report written, waits forever to exit
  scan.stderr!.resume();
  const scanCode = await new Promise((r) => scan.on('close', r));
  return { scanMs: Math.round(performance.now() - t0), scanCode };
}

/** The watch's HTTP endpoints, polled from this process. */
function client(port: number) {
  const get = async (p: string) => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}${p}`);
      return { status: res.status, text: await res.text() };
    } catch {
      return { status: 0, text: '' };
    }
  };
  const polls: number[] = [];
  /** Polls over 250 ms, with when they started (epoch ms), to line up with the watch's own log (--trace-gc). */
  const slowPolls: string[] = [];
  let bytes = 0;
  const gauge = async (re: RegExp, dflt: number) => {
    const t0 = performance.now();
    const startedAt = epochMs();
    const { text } = await get('/metrics');
    const ms = performance.now() - t0;
    polls.push(ms);
    if (ms > 250) slowPolls.push(`${startedAt}:${Math.round(ms)}ms`);
    bytes = text.length;
    const m = re.exec(text);
    return m ? Number(m[1]) : dflt;
  };
  return {
    get,
    /** The probes' /metrics requests: how many, how long each took (request to last byte), the text's size. */
    pollStats: () => ({ polls: polls.length, pollP50Ms: pct(polls, 0.5), pollP99Ms: pct(polls, 0.99), metricsBytes: bytes, slowPolls: slowPolls.slice(-20).join(' ') }),
    drift: () => gauge(/fleetgate_cluster_drift_objects\{cluster="c0000",state="modified"\} (\d+)/, -1),
    mesh: () => gauge(/fleetgate_cluster_findings\{cluster="c0000",policy="mesh.global-endpoints-exist",[^}]*\} (\d+)/, 0),
  };
}

/** `fleetgate watch` started and timed to its first /readyz 200. */
async function startWatch(fleet: string) {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const t0 = performance.now();
  const nodeArgs = [...(WATCH_HEAP ? [`--max-old-space-size=${WATCH_HEAP}`] : []), ...WATCH_NODE];
  const stdout = WATCH_STDOUT ? openSync(WATCH_STDOUT, 'a') : 'ignore';
  const watch = node(['watch', '--fleet', fleet, '--host', '127.0.0.1', '--port', String(port), ...WATCH_ARGS], nodeArgs, stdout);
  process.stderr.write(`watch started at ${Math.round(epochMs())} (epoch ms; --trace-gc times count from here)\n`);
  if (typeof stdout === 'number') closeSync(stdout); // the child has its own copy
  let log = '';
  watch.stderr!.setEncoding('utf8').on('data', (d) => (log = (log + d).slice(-20_000)));
  const c = client(port);
  while ((await c.get('/readyz')).status !== 200) {
    if (watch.exitCode !== null) throw new Error(`watch exited: ${log}`);
    await sleep(100);
  }
  return { watch, c, syncMs: Math.round(performance.now() - t0) };
}

/**
 * --probes changes on c0000 spread over --seconds, each timed until /metrics shows it. Probes take turns: a drift
 * planted or undone (one cluster re-judged), then a ServiceEntry pointed at a cluster outside the fleet or back (the
 * fleet rules re-run over all clusters). A probe not seen within 60 s is counted (and timed at the cap), not fatal.
 */
async function probe(d: Doubles, c: ReturnType<typeof client>) {
  const drift: number[] = [];
  const fleet: number[] = [];
  /** From the double applying the change (its clock, reported over IPC) to /metrics showing it: the watch's part. */
  const driftApplied: number[] = [];
  /** Every probe with when it started (s into the load): the slowest are listed, to line them up with other events. */
  const slowest: { atS: number; kind: string; ms: number }[] = [];
  let timeouts = 0;
  const start = performance.now();
  const interval = (SECONDS * 1000) / PROBES;
  for (let i = 0; i < PROBES; i++) {
    const isFleet = i % 4 >= 2;
    const want = i % 2 === 0 ? 1 : 0;
    const at = performance.now();
    const applied = d.reply(d.owner.get('c0000')!, 'probed');
    d.send({ op: 'probe', cluster: 'c0000', kind: isFleet ? 'fleet' : 'drift', want, i }, 'c0000');
    while ((await (isFleet ? c.mesh() : c.drift())) !== want) {
      if (performance.now() - at > 60_000) {
        timeouts++;
        break;
      }
      await sleep(POLL_MS);
    }
    const seen = epochMs();
    (isFleet ? fleet : drift).push(performance.now() - at);
    if (!isFleet) driftApplied.push(seen - Number((await applied).at));
    slowest.push({ atS: Math.round((at - start) / 1000), kind: isFleet ? 'fleet' : 'drift', ms: Math.round(performance.now() - at) });
    const next = start + (i + 1) * interval;
    if (next > performance.now()) await sleep(next - performance.now());
  }
  return {
    probeP50Ms: pct(drift, 0.5),
    probeP99Ms: pct(drift, 0.99),
    probeMaxMs: pct(drift, 1),
    probeAppliedP50Ms: pct(driftApplied, 0.5),
    probeAppliedP99Ms: pct(driftApplied, 0.99),
    probeTimeouts: timeouts,
    fleetProbeP50Ms: pct(fleet, 0.5),
    fleetProbeP99Ms: pct(fleet, 0.99),
    ...c.pollStats(),
    slowestProbes: slowest.sort((x, y) => y.ms - x.ms).slice(0, 6).map((p) => `${p.kind}@${p.atS}s:${p.ms}ms`).join(' '),
  };
}

/**
 * What the watch says of itself at the end of a run, from its /metrics text: the detect histogram's p50 and p99 (the
 * upper bound of the bucket they fall in: arrival of an event to the metrics reflecting it, over every event), its
 * event-loop delay at most, and its sync errors by reason.
 */
function watchInternals(metrics: string) {
  const buckets = [...metrics.matchAll(/^fleetgate_watch_detect_seconds_bucket\{le="([^"]+)"\} (\d+)/gm)].map((m) => ({ le: Number(m[1]), n: Number(m[2]) }));
  const total = buckets.at(-1)?.n ?? 0;
  const quantile = (q: number) => buckets.find((b) => b.n >= q * total)?.le ?? null;
  const lagMax = /^fleetgate_watch_nodejs_eventloop_lag_max_seconds ([\d.e-]+)/m.exec(metrics);
  const errors: Record<string, number> = {};
  for (const m of metrics.matchAll(/^fleetgate_cluster_sync_errors_total\{[^}]*reason="([^"]+)"[^}]*\} (\d+)/gm)) errors[m[1]] = (errors[m[1]] ?? 0) + Number(m[2]);
  return { detectP50S: quantile(0.5), detectP99S: quantile(0.99), eventLoopLagMaxMs: lagMax ? Math.round(Number(lagMax[1]) * 1000) : null, syncErrors: errors };
}

/** One protocol of one run: sync, load with probes, RSS samples, clean stop. */
async function watchRun(names: string[], dir: string, protocol: string, scanMs: number) {
  const { doubles: d, fleet } = await Doubles.start(names, dir, protocol === 'h2');
  try {
    const { watch, c, syncMs } = await startWatch(fleet);
    const afterSync = rssMb(watch.pid!);
    const loadAtSync = round1(loadavg());
    d.send({ op: 'load', rate: RATE / DOUBLES });
    const loadStart = performance.now();
    const samples: string[] = [];
    const sampler = setInterval(() => samples.push(`${Math.round((performance.now() - loadStart) / 1000)}s:${rssMb(watch.pid!).rss}`), SAMPLE * 1000);
    const probes = await probe(d, c);
    const stats = await d.stats();
    d.send({ op: 'quiet' });
    clearInterval(sampler);
    await sleep(500);
    const end = rssMb(watch.pid!);
    const metrics = (await c.get('/metrics')).text;
    const events = [...metrics.matchAll(/^fleetgate_watch_events_total\{[^}]*\} (\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    watch.kill('SIGTERM');
    const stopCode = await new Promise((r) => watch.on('close', r));
    return {
      protocol,
      syncMs,
      syncOverScan: scanMs ? Math.round((syncMs / scanMs) * 100) / 100 : null,
      eventsPerSecond: Math.round(stats.sent / stats.seconds),
      eventsReceived: events,
      ...probes,
      rssAfterSyncMb: afterSync.rss,
      rssEndMb: end.rss,
      rssPeakMb: end.peak,
      watchStreams: stats.streams,
      connections: stats.connections,
      watch: watchInternals(metrics),
      doubleLoopP99Ms: stats.loopP99Ms,
      doubleLoopMaxMs: stats.loopMaxMs,
      rssSamples: samples.join(' '),
      loadAverage: { atSync: loadAtSync, atEnd: round1(loadavg()) },
      stopCode,
    };
  } finally {
    await d.stop();
  }
}

async function run() {
  const dir = mkdtempSync(join(tmpdir(), 'fleetgate-watch-bench-'));
  try {
    const names = Array.from({ length: CLUSTERS }, (_, i) => `c${String(i).padStart(4, '0')}`);
    mkdirSync(join(dir, 'repo/base'), { recursive: true });
    writeFileSync(join(dir, 'repo/base/objects.yaml'), desiredObjects().map((o) => stringify(o)).join('---\n'));
    let scan = { scanMs: 0, scanCode: null as unknown };
    if (!NO_SCAN) {
      const { doubles: d, fleet } = await Doubles.start(names, dir, true);
      scan = await scanBaseline(fleet, dir).finally(() => d.stop());
    }
    const byProtocol = [];
    if (scan.scanMs) console.error(`scan: ${JSON.stringify(scan)}`);
    for (const p of PROTOCOLS) {
      byProtocol.push(await watchRun(names, dir, p, scan.scanMs));
      console.error(`${p}: ${JSON.stringify(byProtocol[byProtocol.length - 1])}`); // each as it ends: a long run can be cut short
    }
    return { clusters: CLUSTERS, ...scan, watch: byProtocol };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LOAD_AT_START = round1(loadavg());
const runs: Awaited<ReturnType<typeof run>>[] = [];
for (let i = 0; i < RUNS; i++) {
  const r = await run();
  runs.push(r);
  console.error(`run ${i + 1}: ${JSON.stringify(r)}`);
}
const med = (p: string, k: string) => median(runs.map((r) => Number((r.watch.find((w) => w.protocol === p) as unknown as Record<string, unknown>)[k])));
const keys = ['syncMs', 'syncOverScan', 'probeP50Ms', 'probeP99Ms', 'probeAppliedP99Ms', 'fleetProbeP99Ms', 'rssAfterSyncMb', 'rssPeakMb', 'eventsPerSecond'];
console.log(
  JSON.stringify(
    {
      machine: machine(),
      clusters: CLUSTERS,
      rate: RATE,
      seconds: SECONDS,
      doubles: DOUBLES,
      loadAverageAtStart: LOAD_AT_START,
      watchNodeFlags: [...(WATCH_HEAP ? [`--max-old-space-size=${WATCH_HEAP}`] : []), ...WATCH_NODE],
      median: { scanMs: median(runs.map((r) => r.scanMs)), ...Object.fromEntries(PROTOCOLS.map((p) => [p, Object.fromEntries(keys.map((k) => [k, med(p, k)]))])) },
      runs,
    },
    null,
    2,
  ),
);
