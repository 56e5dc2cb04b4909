import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Action } from '../src/index.js';
import { isRolloutObject } from '../src/engine/index.js';
import type { LayerObjects } from './desired.js';
import type { Fleet, FleetCluster } from './fleet.js';
import { judged, type JudgedCluster } from './judged.js';
import { baseReport, redactSecrets, type ScanOptions, type WorkerPlan } from './scan.js';
import { nowMs } from '../webhook/otlp.js';

/**
 * `scan --jobs N`: the clusters judged in N worker threads (scan-worker.ts). The main thread hands out clusters in
 * fleet order, a few at a time per worker, and keeps what comes back as it would have kept a cluster judged on its
 * own thread (stream.ts `keep`: the fleet store, the score facts, the spool); the fleet rules and the report stay
 * on the main thread, so the report is the one `--jobs 1` writes, byte for byte.
 *
 * A worker that stops (a crash, an exit, memory) takes the clusters it had in flight with it: each is judged again,
 * alone, in a fresh worker, and one that stops a worker again is reported as an `error` cluster; the rest of the
 * scan goes on. A worker that cannot start (its policies do not load) fails the scan.
 */

/** The default of `--jobs`: a thread per core, but one per 16 snapshot clusters at most (a small fleet: none). */
export function defaultJobs(fleet: Pick<Fleet, 'clusters'>, cores = usableCores()): number {
  const snapshots = fleet.clusters.filter((c) => 'snapshot' in c.source).length;
  return Math.max(1, Math.min(cores, Math.floor(snapshots / 16)));
}

/**
 * The cores this process may use: the CPUs it may run on, and no more than its cgroup's CPU quota (a container's
 * CPU limit: a pod limited to 2 CPUs on a 32-core node sees 32 CPUs, and 32 threads would only be throttled).
 */
export function usableCores(readText: (file: string) => string | undefined = readOrUndefined): number {
  const cpus = availableParallelism();
  const v2 = readText('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  let quota: number | undefined;
  if (v2 && v2[0] !== 'max' && Number(v2[0]) > 0 && Number(v2[1]) > 0) quota = Number(v2[0]) / Number(v2[1]);
  else {
    const us = Number(readText('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
    const period = Number(readText('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
    if (us > 0 && period > 0) quota = us / period;
  }
  return quota === undefined ? cpus : Math.max(1, Math.min(cpus, Math.ceil(quota)));
}

function readOrUndefined(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** What a worker is started with (structured-cloned into it). */
export interface WorkerInit {
  fleet: Fleet;
  layers: LayerObjects[];
  policies: WorkerPlan['policies'];
  /** The ids of the main thread's policies, in order: the worker checks it loaded the same. */
  policyIds: string[];
  source?: string;
  actions?: Record<string, Action>;
  parameters?: Record<string, unknown>;
  allowExecPlugins?: readonly string[];
  now?: string;
  toStore: boolean;
}

export type ToWorker = { type: 'judge'; i: number; cluster: FleetCluster } | { type: 'stop' };
export type FromWorker = { type: 'ready' } | { type: 'judged'; judged: JudgedCluster } | { type: 'failed'; message: string };

/**
 * Young generation of each worker. A cluster's snapshot and report (a few MB) live while it is judged: with 16 MiB
 * most of them survived two scavenges and were copied each time, and were promoted; 32 MiB lets most die young,
 * −13 to −16% of the scan's CPU for ~+30 MiB peak RSS (847 clusters, quiet, bench/RESULTS.md); 64 gained nothing
 * more for another ~60 MiB. V8's default grows it further per thread.
 */
const YOUNG_MB = 32;

interface Thread {
  worker: Worker;
  ready: boolean;
  dead: boolean;
  /** Clusters in flight → when they were handed out. */
  inFlight: Map<number, number>;
  /** Judging one suspect of an earlier crash, alone. */
  solo: boolean;
  /** Of inFlight, the snapshot clusters (SNAPSHOTS_IN_FLIGHT). */
  snapshots: number;
}

/**
 * Snapshot clusters handed to a worker at once: two — one judged, the next waiting in the worker (scan-worker.ts
 * judges snapshot clusters one after the other), so the worker never waits for this thread to hand it one. A worker
 * reads a snapshot synchronously and judges it without waiting on anything; judging two together only kept both
 * clusters' objects alive for the garbage collector (−8 to −11% of the scan's CPU with one at a time, 847 clusters).
 * Live clusters wait on their API servers: they share `--concurrency` out between the workers, as before.
 */
const SNAPSHOTS_IN_FLIGHT = 2;
/** Judged clusters the main thread may be keeping (spooling) at once before it stops handing out more. */
const KEEPING_PER_JOB = 2;

// Long: one closure over the pool's state (queues, threads, the promise it settles) reads better than a class here
export function judgeInWorkers(
  fleet: Fleet,
  clusters: readonly FleetCluster[],
  opts: ScanOptions,
  plan: WorkerPlan & { toStore: boolean },
  keep: (j: JudgedCluster, started: number) => Promise<void>,
): Promise<void> {
  const init: WorkerInit = {
    fleet: workerFleet(fleet, opts),
    layers: opts.desired.layers.map((l) => ({ layer: l.layer, objects: l.objects })),
    policies: plan.policies,
    policyIds: opts.policies.map((p) => p.id),
    ...(plan.source ? { source: plan.source } : {}),
    actions: opts.actions,
    parameters: opts.parameters,
    allowExecPlugins: opts.allowExecPlugins,
    ...(opts.now ? { now: opts.now.toISOString() } : {}),
    toStore: plan.toStore,
  };
  const perThread = Math.max(1, Math.ceil((opts.concurrency ?? 8) / plan.jobs));
  const queue = clusters.map((_, i) => i);
  const suspects: number[] = [];
  const threads = new Set<Thread>();
  let kept = 0;
  /** Judged clusters being kept (keep's promise not settled yet): a bound on what waits in this thread. */
  let keeping = 0;
  let settled = false;
  // Long: the pool's handlers (dispatch, settle, a lost worker, start) share its queues and threads, read in order
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: unknown) => {
      if (settled) return;
      settled = true;
      for (const t of threads) {
        t.worker.postMessage({ type: 'stop' } satisfies ToWorker);
        t.worker.unref(); // the process does not wait for a worker to wind down
      }
      // a worker that does not stop by itself within a few seconds is ended (it holds nothing the scan needs)
      const timer = setTimeout(() => {
        for (const t of threads) void t.worker.terminate();
      }, 5_000);
      timer.unref();
      if (err) reject(err);
      else resolve();
    };
    const dispatch = () => {
      if (settled) return;
      for (const t of threads) {
        if (!t.ready || t.dead || t.solo) continue;
        if (suspects.length && !t.inFlight.size) {
          t.solo = true;
          send(t, suspects.shift()!);
          continue;
        }
        while (queue.length && t.inFlight.size < perThread && keeping < KEEPING_PER_JOB * plan.jobs) {
          if (isSnapshot(queue[0]) && t.snapshots >= SNAPSHOTS_IN_FLIGHT) break;
          send(t, queue.shift()!);
        }
      }
      const alive = [...threads].filter((t) => !t.dead).length;
      if ((queue.length || suspects.length) && alive < plan.jobs) start(); // a stopped worker is replaced
    };
    const isSnapshot = (i: number) => 'snapshot' in clusters[i].source;
    const send = (t: Thread, i: number) => {
      t.inFlight.set(i, nowMs());
      if (isSnapshot(i)) t.snapshots++;
      t.worker.postMessage({ type: 'judge', i, cluster: clusters[i] } satisfies ToWorker);
    };
    const settle = (j: JudgedCluster, started: number) => {
      keeping++;
      keep(j, started).then(() => {
        keeping--;
        if (++kept === clusters.length) finish();
        else dispatch();
      }, finish);
    };
    /** The clusters a stopped worker had: judged again alone, or reported (a suspect that stopped a worker again). */
    const lost = (t: Thread, why: string) => {
      if (t.dead) return;
      t.dead = true;
      threads.delete(t);
      if (settled) return;
      if (!t.ready) return finish(new Error(`a scan worker thread could not start: ${why}`));
      const blamed = t.solo || t.inFlight.size === 1;
      for (const [i, started] of t.inFlight) {
        if (!blamed) {
          suspects.push(i);
          continue;
        }
        const report = { ...baseReport(clusters[i], opts.desired), status: 'error' as const, error: redactSecrets(`the worker thread judging this cluster stopped: ${why}`) };
        settle(judged(i, report, plan.toStore), started);
      }
      dispatch();
    };
    const start = () => {
      const t: Thread = {
        worker: new Worker(workerUrl(), { workerData: init, resourceLimits: { maxYoungGenerationSizeMb: YOUNG_MB } }),
        ready: false,
        dead: false,
        inFlight: new Map(),
        solo: false,
        snapshots: 0,
      };
      threads.add(t);
      t.worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          t.ready = true;
          dispatch();
        } else if (m.type === 'failed') {
          t.ready = false;
          lost(t, m.message);
          void t.worker.terminate();
        } else {
          const started = t.inFlight.get(m.judged.i) ?? nowMs();
          if (t.inFlight.delete(m.judged.i) && isSnapshot(m.judged.i)) t.snapshots--;
          if (t.solo) t.solo = false;
          settle({ ...m.judged, record: Buffer.from(m.judged.record.buffer, m.judged.record.byteOffset, m.judged.record.byteLength) }, started);
          dispatch(); // the worker's next cluster now, not once this one is kept
        }
      });
      t.worker.on('error', (err) => lost(t, err instanceof Error ? err.message : String(err)));
      t.worker.on('exit', (code) => lost(t, `it exited with code ${code}`));
    };
    if (!clusters.length) return finish();
    for (let n = 0; n < plan.jobs; n++) start();
  });
}

/**
 * The fleet as a worker needs it: everything but the clusters, which come one per message. Only PolicyRollouts read
 * the fleet's clusters (a batched stage orders them by name: scan.ts clusterContextOf), and only their names and
 * labels; without a rollout in the config repo a worker holds none, so its heap does not grow with the fleet.
 */
export function workerFleet(fleet: Fleet, opts: Pick<ScanOptions, 'desired'>): Fleet {
  const rollouts = opts.desired.layers.some((l) => l.objects.some(isRolloutObject));
  return { ...fleet, clusters: rollouts ? fleet.clusters.map((c) => ({ name: c.name, labels: c.labels }) as FleetCluster) : [] };
}

/** The worker's module: next to this one (dist/scanner/*.js when built; the .ts sources under the test runner). */
function workerUrl(): URL {
  return new URL(import.meta.url.endsWith('.ts') ? './scan-worker.ts' : './scan-worker.js', import.meta.url);
}
