import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { JobRequest, WorkerFinding, WorkerMessage, WorkerSetup } from './protocol.js';

export interface SandboxOptions {
  /** Budget for one evaluation attempt in a worker, in milliseconds (default 10,000). */
  timeoutMs?: number;
  /** Worker threads (default 1). */
  workers?: number;
  /** Heap limit of a worker, in MiB (default 256): a policy allocating without bound is stopped there. */
  memoryMb?: number;
}

/** A user policy the sandbox had to stop, and on which resource it was running then. */
export interface StoppedPolicy {
  policy: string;
  resourceIndex: number;
  reason: string;
}

export interface SandboxResult {
  findings: WorkerFinding[];
  stopped: StoppedPolicy[];
  checks: Record<string, number>;
}

/** dist/src/engine/sandbox/worker.js, also when this module runs from its TypeScript source (tests). */
function workerFile(): string {
  const beside = fileURLToPath(new URL('./worker.js', import.meta.url));
  return existsSync(beside) ? beside : fileURLToPath(new URL('../../../dist/src/engine/sandbox/worker.js', import.meta.url));
}

class PolicyWorker {
  readonly worker: Worker;
  readonly progress = new Int32Array(new SharedArrayBuffer(8));
  readonly ready: Promise<string[]>;
  private pending?: { id: number; resolve: (m: WorkerMessage) => void };
  private dead?: string;

  constructor(files: string[], memoryMb: number) {
    const setup: WorkerSetup = { files, progress: this.progress.buffer as SharedArrayBuffer };
    this.worker = new Worker(workerFile(), {
      workerData: setup,
      execArgv: [],
      resourceLimits: { maxOldGenerationSizeMb: memoryMb, maxYoungGenerationSizeMb: Math.max(16, memoryMb / 8) },
    });
    this.ready = new Promise((resolve, reject) => {
      const onFirst = (m: WorkerMessage) => {
        if ('ready' in m) {
          this.worker.off('message', onFirst);
          if (m.ready) resolve(m.policies);
          else reject(new Error(m.error));
        }
      };
      this.worker.on('message', onFirst);
      this.worker.once('error', (err) => reject(err));
      this.worker.once('exit', (code) => reject(new Error(`policy worker exited (${code}) before it was ready`)));
    });
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: WorkerMessage) => {
      if ('id' in m && this.pending?.id === m.id) {
        const p = this.pending;
        this.pending = undefined;
        p.resolve(m);
      }
    });
    const die = (why: string) => {
      this.dead ??= why;
      const p = this.pending;
      this.pending = undefined;
      p?.resolve({ id: p.id, ok: false, error: why });
    };
    this.worker.on('error', (err) =>
      die((err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'exceeded the memory limit' : `crashed: ${err.message}`),
    );
    this.worker.on('exit', (code) => die(`worker exited (${code})`));
  }

  /** Runs a job; resolves with the response, or with `undefined` when the budget ran out first. */
  exec(job: JobRequest, timeoutMs: number): Promise<WorkerMessage | undefined> {
    if (this.dead) return Promise.resolve({ id: job.id, ok: false, error: this.dead });
    this.progress[0] = -2;
    this.progress[1] = -1;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending = undefined;
        resolve(undefined);
      }, timeoutMs);
      this.pending = {
        id: job.id,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      this.worker.postMessage(job);
    });
  }

  async terminate(): Promise<void> {
    this.dead ??= 'terminated';
    await this.worker.terminate();
  }
}

/**
 * Runs users' policies in worker threads with a time and memory budget. A policy that loops, throws its worker
 * away or allocates without bound is stopped, reported, and left out of the rest of that job; the other
 * policies' verdicts are kept. Built-in policies never come here: they stay on the fast path.
 */
export class SandboxPool {
  private idle: PolicyWorker[] = [];
  /** Every live worker, busy or idle, so that close() stops them all. */
  private readonly all = new Set<PolicyWorker>();
  private waiting: ((w: PolicyWorker) => void)[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(
    private readonly files: string[],
    private readonly ids: string[],
    private readonly opts: Required<SandboxOptions>,
    first: PolicyWorker,
  ) {
    this.all.add(first);
    this.idle.push(first);
    for (let i = 1; i < opts.workers; i++) this.idle.push(this.spawn());
  }

  static async start(files: string[], options: SandboxOptions = {}): Promise<SandboxPool> {
    const opts = { timeoutMs: 10_000, workers: 1, memoryMb: 256, ...options };
    const first = new PolicyWorker(files, opts.memoryMb);
    const ids = await first.ready;
    return new SandboxPool(files, ids, opts, first);
  }

  private spawn(): PolicyWorker {
    const w = new PolicyWorker(this.files, this.opts.memoryMb);
    this.all.add(w);
    return w;
  }

  private retire(w: PolicyWorker): void {
    this.all.delete(w);
    void w.terminate();
  }

  private acquire(): Promise<PolicyWorker> {
    const w = this.idle.pop();
    if (w) return Promise.resolve(w);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(w: PolicyWorker): void {
    const next = this.waiting.shift();
    if (next) next(w);
    else this.idle.push(w);
  }

  async run(job: Omit<JobRequest, 'id' | 'disabled'>): Promise<SandboxResult> {
    if (this.closed) throw new Error('the policy sandbox is closed');
    const stopped: StoppedPolicy[] = [];
    const disabled: string[] = [];
    // Each attempt either finishes or stops one policy, so attempts are bounded by the number of policies.
    for (let attempt = 0; attempt <= this.ids.length; attempt++) {
      const worker = await this.acquire();
      try {
        await worker.ready;
      } catch (err) {
        this.retire(worker);
        this.release(this.spawn());
        throw err;
      }
      const reply = await worker.exec({ ...job, id: this.nextId++, disabled }, this.opts.timeoutMs);
      if (this.closed) throw new Error('the policy sandbox was closed during the evaluation');
      if (reply && 'id' in reply && reply.ok) {
        this.release(worker);
        return { findings: reply.findings, stopped, checks: reply.checks };
      }
      // Stopped: find out which policy was running, replace the worker, go on without that policy.
      const resourceIndex = worker.progress[0];
      const policy = this.ids[worker.progress[1]];
      const reason = reply && 'id' in reply && !reply.ok ? reply.error : `timed out after ${this.opts.timeoutMs} ms`;
      this.retire(worker);
      this.release(this.spawn());
      if (!policy || resourceIndex === -2) throw new Error(`policy sandbox failed: ${reason}`);
      stopped.push({ policy, resourceIndex, reason });
      disabled.push(policy);
    }
    throw new Error('policy sandbox: every policy was stopped');
  }

  async close(): Promise<void> {
    this.closed = true;
    this.idle = [];
    const all = [...this.all];
    this.all.clear();
    await Promise.all(all.map((w) => w.terminate()));
  }
}
