import ivm from 'isolated-vm';
import type { Policy } from '../../authoring/index.js';
import { ACTIONS, SEVERITIES, SEVERITY_RANK, type InputError, type Severity } from '../../model/index.js';
import { bootstrap } from './bootstrap.js';
import { registerSandboxed, type PolicySandbox } from './registry.js';
import type { GuestJob, PolicyMeta, WorkerFinding } from './protocol.js';

/**
 * Users' policies run in one V8 isolate (isolated-vm) driven synchronously from the main thread: no `process`,
 * `require`, `import` of Node built-ins, file system, network, timers or workers exist in there, only the
 * language's own intrinsics, frozen. Loading a file (its top level) and every job run under a time budget
 * (the isolate is terminated at the deadline) and a heap limit (the isolate is disposed and rebuilt). What comes
 * out is JSON checked field by field; a policy the host had to stop becomes an error finding for that policy only.
 */

export interface SandboxOptions {
  /** Budget for one job (all user policies on one set of objects), in milliseconds (default 10,000). */
  timeoutMs?: number;
  /** Budget for loading one policy file (its top-level code), in milliseconds (default: timeoutMs, at most 5,000). */
  loadTimeoutMs?: number;
  /** Heap limit of the isolate, in MiB (default 128): a policy allocating without bound is stopped there. */
  memoryMb?: number;
}

export interface CompiledFile {
  file: string;
  code: string;
}

/** A user policy the sandbox had to stop, and on which resource it was running then (-1: not known). */
export interface StoppedPolicy {
  policy: string;
  resourceIndex: number;
  reason: string;
}

export interface SandboxResult {
  findings: WorkerFinding[];
  stopped: StoppedPolicy[];
  checks: Record<string, number>;
  /** Per object given, the highest severity among the users' policies that applied to it (see Evaluation.topSeverity). */
  topSeverity?: (Severity | null)[];
}

interface LoadedFile extends CompiledFile {
  policies: PolicyMeta[];
}

const MAX_MESSAGE = 4096;

/** Wraps a CommonJS bundle so that its guest is the script's completion value, not a global. */
function wrap(code: string): string {
  return `(function () { const module = { exports: {} }; const exports = module.exports;\n${code}\n;return module.exports.guest; })()`;
}

export class PolicyHost implements PolicySandbox {
  private isolate!: ivm.Isolate;
  private dispatcher!: ivm.Reference<ReturnType<typeof bootstrap>>;
  private runRef!: ivm.Reference<(job: string, onlyFile?: number) => string>;
  private readonly progress = new Int32Array(new SharedArrayBuffer(12));
  private files: LoadedFile[] = [];
  private ids = new Map<string, { file: number; meta: PolicyMeta }>();
  private readonly opts: Required<SandboxOptions>;

  private constructor(options: SandboxOptions) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.opts = { timeoutMs, loadTimeoutMs: options.loadTimeoutMs ?? Math.min(timeoutMs, 5_000), memoryMb: options.memoryMb ?? 128 };
  }

  /** Loads the compiled files; a file that fails or runs over budget at load is an error naming it, and skipped. */
  static async create(compiled: readonly CompiledFile[], options: SandboxOptions = {}): Promise<{ host: PolicyHost; errors: InputError[] }> {
    const host = new PolicyHost(options);
    const errors: InputError[] = [];
    host.boot();
    for (const c of compiled) {
      // Asynchronously: the top level runs on the isolate's own thread, so the process (serve's /healthz) stays
      // responsive while a file loads, however long it takes to reach its budget.
      const loaded = await host.loadFile(c, true);
      if ('message' in loaded) {
        errors.push(loaded);
        if (host.isolate.isDisposed) host.reboot();
        continue;
      }
      host.files.push(loaded);
    }
    host.files.forEach((f, i) => f.policies.forEach((meta) => host.ids.set(meta.id, { file: i, meta })));
    return { host, errors };
  }

  /** Files that loaded, with their policies' metadata. */
  get loaded(): readonly { file: string; policies: readonly PolicyMeta[] }[] {
    return this.files;
  }

  /** Records that the main thread's Policy object for a user policy lives here. */
  adopt(policy: Policy): void {
    registerSandboxed(policy, this);
    this.adopted.add(policy.id);
  }

  /** Ids the main thread accepted (a policy whose id clashes or whose definition is invalid never runs). */
  private readonly adopted = new Set<string>();

  private boot(): void {
    this.isolate = new ivm.Isolate({ memoryLimit: this.opts.memoryMb });
    const context = this.isolate.createContextSync();
    context.global.setSync('__progress', new ivm.ExternalCopy(this.progress.buffer).copyInto({ release: true }));
    this.dispatcher = this.isolate
      .compileScriptSync(`(${bootstrap.toString()})(globalThis.__progress)`, { filename: 'fleetgate:bootstrap' })
      .runSync(context, { reference: true, timeout: this.opts.loadTimeoutMs }) as ivm.Reference<ReturnType<typeof bootstrap>>;
    this.runRef = this.dispatcher.getSync('run', { reference: true }) as ivm.Reference<(job: string, onlyFile?: number) => string>;
    this.context = context;
  }

  private context!: ivm.Context;

  /** A fresh isolate with the files that loaded before (after the heap limit disposed the old one). */
  private reboot(): void {
    this.boot();
    for (const f of this.files) {
      const again = this.loadFileNow(f);
      // A file that loaded once and not now gets an empty slot: its policies are then reported as stopped.
      if ('message' in again) {
        if (this.isolate.isDisposed) this.boot();
        this.addRef().applySync(this.dispatcher.derefInto(), [null]);
      }
    }
  }

  /** Loads one file on the isolate's thread (start-up: the event loop stays free). */
  private async loadFile(c: CompiledFile, _async: true): Promise<LoadedFile | InputError> {
    const timeout = this.opts.loadTimeoutMs;
    try {
      const script = await this.isolate.compileScript(wrap(c.code), { filename: c.file });
      const guest = (await script.run(this.context, { reference: true, timeout })) as ivm.Reference<unknown>;
      const index = this.addRef().applySync(this.dispatcher.derefInto(), [guest.derefInto()]);
      return this.withMeta(c, await this.metaRef().apply(this.dispatcher.derefInto(), [index], { timeout }));
    } catch (err) {
      return this.loadFailed(c, err);
    }
  }

  /** The same, synchronously (rebuilding the isolate in the middle of a job). */
  private loadFileNow(c: CompiledFile): LoadedFile | InputError {
    const timeout = this.opts.loadTimeoutMs;
    try {
      const script = this.isolate.compileScriptSync(wrap(c.code), { filename: c.file });
      const guest = script.runSync(this.context, { reference: true, timeout }) as ivm.Reference<unknown>;
      const index = this.addRef().applySync(this.dispatcher.derefInto(), [guest.derefInto()]);
      return this.withMeta(c, this.metaRef().applySync(this.dispatcher.derefInto(), [index], { timeout }));
    } catch (err) {
      return this.loadFailed(c, err);
    }
  }

  private addRef() {
    return this.dispatcher.getSync('add', { reference: true }) as ivm.Reference<(g: unknown) => number>;
  }

  private metaRef() {
    return this.dispatcher.getSync('meta', { reference: true }) as ivm.Reference<(i: number) => string | null>;
  }

  private withMeta(c: CompiledFile, json: unknown): LoadedFile | InputError {
    const policies = typeof json === 'string' ? (JSON.parse(json) as PolicyMeta[]) : [];
    if (!Array.isArray(policies) || !policies.length) return { file: c.file, message: 'exports no policy (export default definePolicy({...}))' };
    return { ...c, policies };
  }

  private loadFailed(c: CompiledFile, err: unknown): InputError {
    return { file: c.file, message: `cannot load policy: ${this.reason(err, this.opts.loadTimeoutMs, 'loading')}` };
  }

  private reason(err: unknown, timeoutMs: number, what = 'running'): string {
    if (this.isolate.isDisposed) return 'exceeded the memory limit';
    const msg = err instanceof Error ? err.message : String(err);
    if (/timed out/i.test(msg)) return `timed out after ${timeoutMs} ms${what === 'loading' ? ' while loading' : ''}`;
    return msg.length > 300 ? `${msg.slice(0, 299)}…` : msg;
  }

  /**
   * Runs every user policy on the job, synchronously. A policy that runs over the budget or the heap limit is
   * stopped and the job is run again without it (each attempt stops one policy, so attempts are bounded).
   */
  run(job: Omit<GuestJob, 'disabled' | 'clusterKey'>, timeoutMs = this.opts.timeoutMs): SandboxResult {
    const stopped: StoppedPolicy[] = [];
    const disabled: string[] = [...this.ids.keys()].filter((id) => !this.adopted.has(id));
    const active = job.only !== undefined ? 1 : this.adopted.size;
    for (let attempt = 0; attempt <= active; attempt++) {
      this.progress.fill(-1);
      let out: string;
      try {
        out = this.runRef.applySync(undefined, [JSON.stringify({ ...job, clusterKey: this.keyOf(job.cluster), disabled })], { timeout: timeoutMs });
      } catch (err) {
        const reason = this.reason(err, timeoutMs);
        const [file, resourceIndex, policyIndex] = this.progress;
        if (this.isolate.isDisposed) this.reboot();
        if (file === -2) return this.runFileByFile(job, timeoutMs, disabled, stopped);
        const culprit = this.files[file]?.policies[policyIndex]?.id;
        if (culprit && !disabled.includes(culprit)) {
          stopped.push({ policy: culprit, resourceIndex, reason });
          disabled.push(culprit);
          continue;
        }
        // Stopped outside any policy's validate (a file's own code): every policy of that file, or of all files.
        const blamed = this.files[file] ? [this.files[file]] : this.files;
        for (const f of blamed)
          for (const m of f.policies) if (!disabled.includes(m.id)) (stopped.push({ policy: m.id, resourceIndex: -1, reason }), disabled.push(m.id));
        continue;
      }
      return this.collect(out, job, disabled, stopped);
    }
    return { findings: [], stopped, checks: {} };
  }

  /**
   * A stop after every file had returned came from a promise job one of them queued: run the files one at a time to
   * find which, so that only that file's policies are stopped and no other file's verdict is lost or blamed.
   */
  private runFileByFile(job: Omit<GuestJob, 'disabled' | 'clusterKey'>, timeoutMs: number, disabled: string[], stopped: StoppedPolicy[]): SandboxResult {
    const json = JSON.stringify({ ...job, clusterKey: this.keyOf(job.cluster), disabled });
    const parts = this.files.map((file, i) => {
      try {
        return this.runRef.applySync(undefined, [json, i], { timeout: timeoutMs }).split('\n')[i] ?? '!';
      } catch (err) {
        const reason = this.reason(err, timeoutMs);
        if (this.isolate.isDisposed) this.reboot();
        for (const m of file.policies) if (!disabled.includes(m.id)) (stopped.push({ policy: m.id, resourceIndex: -1, reason }), disabled.push(m.id));
        return '-';
      }
    });
    return this.collect(parts.join('\n'), job, disabled, stopped);
  }

  private readonly clusterKeys = new WeakMap<object, string>();

  private keyOf(cluster: GuestJob['cluster']): string {
    let key = this.clusterKeys.get(cluster);
    if (key === undefined) this.clusterKeys.set(cluster, (key = JSON.stringify(cluster)));
    return key;
  }

  /** Checks what the isolate said, file by file: a file can only speak for its own policies. */
  private collect(out: string, job: Omit<GuestJob, 'disabled' | 'clusterKey'>, disabled: string[], stopped: StoppedPolicy[]): SandboxResult {
    const findings: WorkerFinding[] = [];
    const checks: Record<string, number> = {};
    let top: (Severity | null)[] | undefined;
    const parts = out.split('\n');
    this.files.forEach((file, i) => {
      const own = new Map(file.policies.map((m) => [m.id, m]));
      let parsed: { findings?: unknown; checks?: unknown; topSeverity?: unknown } | undefined;
      if (parts[i] === '-') return; // not run (its policies were stopped)
      try {
        parsed = parts[i] && parts[i] !== '!' ? JSON.parse(parts[i]) : undefined;
      } catch {
        parsed = undefined;
      }
      if (!parsed || !Array.isArray(parsed.findings)) {
        for (const m of file.policies)
          if (!disabled.includes(m.id) && (job.only === undefined || job.only === m.id))
            stopped.push({ policy: m.id, resourceIndex: -1, reason: 'the policy file failed outside validate()' });
        return;
      }
      for (const raw of parsed.findings as Record<string, unknown>[]) {
        const meta = raw && typeof raw.policy === 'string' ? own.get(raw.policy) : undefined;
        if (!meta || disabled.includes(meta.id)) continue;
        const ri = Number.isInteger(raw.resourceIndex) && (raw.resourceIndex as number) < job.objects.length ? (raw.resourceIndex as number) : -1;
        const segments = Array.isArray(raw.segments) ? raw.segments.filter((s) => typeof s === 'string' || typeof s === 'number') : [];
        const resource = (raw.resource ?? {}) as Record<string, unknown>;
        findings.push({
          policy: meta.id,
          severity: SEVERITIES.includes(raw.severity as never) ? (raw.severity as WorkerFinding['severity']) : meta.severity,
          action: ACTIONS.includes(raw.action as never) ? (raw.action as WorkerFinding['action']) : meta.action,
          message: String(raw.message ?? '').slice(0, MAX_MESSAGE),
          resource: {
            apiVersion: String(resource.apiVersion ?? ''),
            kind: String(resource.kind ?? ''),
            name: String(resource.name ?? ''),
            ...(typeof resource.namespace === 'string' ? { namespace: resource.namespace } : {}),
          },
          path: typeof raw.path === 'string' ? raw.path : '$',
          ...(raw.error === true ? { error: true as const } : {}),
          resourceIndex: ri,
          segments,
        });
      }
      if (parsed.checks && typeof parsed.checks === 'object')
        for (const [id, n] of Object.entries(parsed.checks as Record<string, unknown>)) if (own.has(id) && typeof n === 'number') checks[id] = n;
      if (Array.isArray(parsed.topSeverity) && parsed.topSeverity.length === job.objects.length)
        top = mergeTopSeverity(top, parsed.topSeverity, Math.max(0, ...file.policies.map((m) => SEVERITY_RANK[m.severity] ?? 0)));
    });
    return { findings, stopped, checks, ...(top ? { topSeverity: top } : {}) };
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/**
 * Folds one file's per-object severities into the others'. A file speaks only up to the highest severity of its own
 * policies: whatever else it claims is capped there.
 */
function mergeTopSeverity(into: (Severity | null)[] | undefined, claimed: unknown[], capRank: number): (Severity | null)[] {
  const out = into ?? new Array<Severity | null>(claimed.length).fill(null);
  for (let i = 0; i < claimed.length; i++) {
    const c = claimed[i];
    if (typeof c !== 'string' || !SEVERITIES.includes(c as Severity)) continue;
    const rank = Math.min(SEVERITY_RANK[c as Severity], capRank);
    const cur = out[i];
    if (rank > 0 && (!cur || rank > SEVERITY_RANK[cur])) out[i] = SEVERITIES.find((s) => SEVERITY_RANK[s] === rank)!;
  }
  return out;
}
