import ivm from 'isolated-vm';
import { SourceMap } from 'node:module';
import { isAbsolute, relative } from 'node:path';
import type { Policy } from '../../authoring/index.js';
import { ACTIONS, SEVERITIES, SEVERITY_RANK, type InputError, type Severity } from '../../model/index.js';
import { bootstrap } from './bootstrap.js';
import { API_PARAM } from './compile.js';
import type { Dispatcher } from './dispatcher.js';
import { registerSandboxed, type PolicySandbox } from './registry.js';
import { MAX_BATCH, MAX_CONTEXTS, UNKNOWN_CONTEXT, type GuestJob, type PolicyMeta, type SandboxJob, type WorkerFinding } from './protocol.js';
import { siteIn, type Site } from './sites.js';

/**
 * Users' policies run in one V8 isolate (isolated-vm) driven synchronously from the main thread: no `process`,
 * `require`, `import` of Node built-ins, file system, network, timers or workers exist in there, only the
 * language's own intrinsics, frozen, and one shared copy of fleetgate's authoring and evaluation code, frozen too
 * (bootstrap.ts). A job (every user policy on one set of objects) is one synchronous call: the objects go in once
 * as JSON, one engine judges them with every file's policies, and the findings come out once as JSON, checked
 * field by field here. Loading a file (its top level) and every job run under a time budget (the isolate is
 * terminated at the deadline) and a heap limit (the isolate is disposed and rebuilt); a policy the host had to
 * stop becomes an error finding for that policy only.
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
  /** Source map of `code` (absolute sources), to name the line of a policy's error. */
  map?: string;
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
  /** Name of the file's script in the isolate (stack traces say it). */
  script: string;
  sourceMap?: SourceMap | null;
}

/** An adopted policy: where it lives in the isolate ("file:index"). */
interface Active {
  key: string;
  file: number;
  meta: PolicyMeta;
}

const MAX_MESSAGE = 4096;
/** Lines the wrapper puts before a bundle's first line (stack lines are the wrapped script's). */
const WRAP_LINES = 1;

/** Wraps a CommonJS bundle into a function of the shared API: the script's completion value, not a global. */
function wrap(code: string): string {
  return `(function (${API_PARAM}) { const module = { exports: {} }; const exports = module.exports;\n${code}\n;return module.exports; })`;
}

/** How a source file is named in messages: relative to the working directory when inside it. */
function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

let scripts = 0;

export class PolicyHost implements PolicySandbox {
  private isolate!: ivm.Isolate;
  private context!: ivm.Context;
  private addRef!: ivm.Reference<Dispatcher['add']>;
  private runRef!: ivm.Reference<Dispatcher['run']>;
  private batchRef!: ivm.Reference<Dispatcher['runBatch']>;
  private answeredRef!: ivm.Reference<Dispatcher['answered']>;
  /** [file, resource, policy-in-file, job-in-batch] of what runs in the isolate (see dispatcher.ts). */
  private readonly progress = new Int32Array(new SharedArrayBuffer(16));
  /** The same cells as the isolate writes them (int32, little-endian, through a DataView: see bootstrap.ts). */
  private readonly progressView = new DataView(this.progress.buffer);
  private files: LoadedFile[] = [];
  private readonly opts: Required<SandboxOptions>;
  /** Adopted policies by id (ids the main thread accepted are unique), and their "file:index" keys. */
  private readonly active = new Map<string, Active>();
  /** Keys of every loaded policy that was not adopted (never runs); computed at the first job. */
  private inactive?: string[];
  /** The highest severity rank among the adopted policies: what an answer with every one of them speaking is capped at. */
  private capAll?: number;

  private constructor(
    options: SandboxOptions,
    private readonly runtime: string,
  ) {
    const timeoutMs = options.timeoutMs ?? 10_000;
    this.opts = { timeoutMs, loadTimeoutMs: options.loadTimeoutMs ?? Math.min(timeoutMs, 5_000), memoryMb: options.memoryMb ?? 128 };
  }

  /** Loads the compiled files; a file that fails or runs over budget at load is an error naming it, and skipped. */
  static async create(runtime: string, compiled: readonly CompiledFile[], options: SandboxOptions = {}): Promise<{ host: PolicyHost; errors: InputError[] }> {
    const host = new PolicyHost(options, runtime);
    const errors: InputError[] = [];
    host.boot();
    for (const c of compiled) {
      // Asynchronously: the top level runs on the isolate's own thread, so the process (serve's /healthz) stays
      // responsive while a file loads, however long it takes to reach its budget.
      const loaded = await host.loadFile(c);
      if ('message' in loaded) {
        errors.push(loaded);
        if (host.isolate.isDisposed) host.reboot();
        continue;
      }
      host.files.push(loaded);
    }
    return { host, errors };
  }

  /** Files that loaded, with their policies' metadata. */
  get loaded(): readonly { file: string; policies: readonly PolicyMeta[] }[] {
    return this.files;
  }

  /** Records that the main thread's Policy object for a user policy lives here (only adopted policies ever run). */
  adopt(policy: Policy): void {
    const file = this.files.findIndex((f) => f.file === policy.file);
    const index = file < 0 ? -1 : this.files[file].policies.findIndex((m) => m.id === policy.id);
    if (index < 0) throw new Error(`policy "${policy.id}" was not loaded by this sandbox`);
    registerSandboxed(policy, this);
    this.active.set(policy.id, { key: `${file}:${index}`, file, meta: this.files[file].policies[index] });
    this.inactive = undefined;
    this.capAll = undefined;
  }

  private boot(): void {
    this.sent.clear(); // a fresh isolate holds no context
    this.isolate = new ivm.Isolate({ memoryLimit: this.opts.memoryMb });
    const context = this.isolate.createContextSync();
    context.global.setSync('__progress', new ivm.ExternalCopy(this.progress.buffer).copyInto({ release: true }));
    const runtime = `function () { const module = { exports: {} }; const exports = module.exports;\n${this.runtime}\n;return module.exports; }`;
    const dispatcher = this.isolate
      .compileScriptSync(`(${bootstrap.toString()})(globalThis.__progress, ${runtime})`, { filename: 'fleetgate:runtime' })
      .runSync(context, { reference: true, timeout: this.opts.loadTimeoutMs }) as ivm.Reference<Dispatcher>;
    this.addRef = dispatcher.getSync('add', { reference: true }) as ivm.Reference<Dispatcher['add']>;
    this.runRef = dispatcher.getSync('run', { reference: true }) as ivm.Reference<Dispatcher['run']>;
    this.batchRef = dispatcher.getSync('runBatch', { reference: true }) as ivm.Reference<Dispatcher['runBatch']>;
    this.answeredRef = dispatcher.getSync('answered', { reference: true }) as ivm.Reference<Dispatcher['answered']>;
    this.context = context;
  }

  /** A fresh isolate with the files that loaded before (after the heap limit disposed the old one). */
  private reboot(): void {
    this.boot();
    for (const f of this.files) {
      const again = this.loadFileNow(f);
      // A file that loaded once and not now gets an empty slot: its policies are then reported as stopped.
      if ('message' in again || again.policies.length !== f.policies.length) {
        if (this.isolate.isDisposed) this.boot();
        this.addRef.applySync(undefined, [null, '']);
      } else f.script = again.script;
    }
  }

  /** Loads one file on the isolate's thread (start-up: the event loop stays free). */
  private async loadFile(c: CompiledFile): Promise<LoadedFile | InputError> {
    const timeout = this.opts.loadTimeoutMs;
    const script = `fleetgate-policy-${++scripts}.js`;
    try {
      const compiled = await this.isolate.compileScript(wrap(c.code), { filename: script });
      const factory = (await compiled.run(this.context, { reference: true, timeout })) as ivm.Reference<(api: unknown) => unknown>;
      return this.withMeta(c, script, await this.addRef.apply(undefined, [factory.derefInto(), script], { timeout }));
    } catch (err) {
      return this.loadFailed(c, script, err);
    }
  }

  /** The same, synchronously (rebuilding the isolate in the middle of a job). */
  private loadFileNow(c: CompiledFile): LoadedFile | InputError {
    const timeout = this.opts.loadTimeoutMs;
    const script = `fleetgate-policy-${++scripts}.js`;
    try {
      const compiled = this.isolate.compileScriptSync(wrap(c.code), { filename: script });
      const factory = compiled.runSync(this.context, { reference: true, timeout }) as ivm.Reference<(api: unknown) => unknown>;
      return this.withMeta(c, script, this.addRef.applySync(undefined, [factory.derefInto(), script], { timeout }));
    } catch (err) {
      return this.loadFailed(c, script, err);
    }
  }

  private withMeta(c: CompiledFile, script: string, json: unknown): LoadedFile | InputError {
    const policies = typeof json === 'string' ? (JSON.parse(json) as PolicyMeta[]) : [];
    if (!Array.isArray(policies) || !policies.length) return { file: c.file, message: 'exports no policy (export default definePolicy({...}))' };
    return { file: c.file, code: c.code, map: c.map, policies, script };
  }

  private loadFailed(c: CompiledFile, script: string, err: unknown): InputError {
    const reason = this.reason(err, this.opts.loadTimeoutMs, 'loading');
    // A throw at top level names its line; a stop (time, memory) names the file only, as the budget is the file's.
    const threw = !this.isolate.isDisposed && !/timed out/i.test(err instanceof Error ? err.message : String(err));
    const at = threw ? this.locate(c, siteIn(String((err as Error)?.stack ?? ''), script)) : undefined;
    return { file: c.file, ...(at ? { line: at.line, column: at.column } : {}), message: `cannot load policy: ${reason}` };
  }

  /** The user's source file and line of a place in a file's bundle (undefined without a map or a match). */
  private locate(f: CompiledFile & { sourceMap?: SourceMap | null }, site: Site | undefined): { file: string; line: number; column: number } | undefined {
    if (!site || !f.map) return undefined;
    try {
      if (f.sourceMap === undefined) f.sourceMap = new SourceMap(JSON.parse(f.map));
      const e = f.sourceMap?.findEntry(site[0] - 1 - WRAP_LINES, site[1] - 1) as { originalSource?: string; originalLine?: number; originalColumn?: number } | undefined;
      if (!e?.originalSource || e.originalLine === undefined || !isAbsolute(e.originalSource)) return undefined;
      return { file: displayPath(e.originalSource), line: e.originalLine + 1, column: (e.originalColumn ?? 0) + 1 };
    } catch {
      f.sourceMap = null;
      return undefined;
    }
  }

  private reason(err: unknown, timeoutMs: number, what = 'running'): string {
    if (this.isolate.isDisposed) return 'exceeded the memory limit';
    const msg = err instanceof Error ? err.message : String(err);
    if (/timed out/i.test(msg)) return `timed out after ${timeoutMs} ms${what === 'loading' ? ' while loading' : ''}`;
    return msg.length > 300 ? `${msg.slice(0, 299)}…` : msg;
  }

  /** Keys of the loaded policies the main thread did not adopt (they never run). */
  private notAdopted(): string[] {
    if (this.inactive) return this.inactive;
    const adopted = new Set([...this.active.values()].map((a) => a.key));
    this.inactive = this.files.flatMap((f, i) => f.policies.map((_, j) => `${i}:${j}`)).filter((k) => !adopted.has(k));
    return this.inactive;
  }

  /** Stops `ids` (not stopped yet) for `reason`, and records their keys as disabled. */
  private stop(metas: readonly PolicyMeta[], file: number, resourceIndex: number, reason: string, disabled: string[], stopped: StoppedPolicy[]): void {
    for (const m of metas) {
      const a = this.active.get(m.id);
      if (!a || a.file !== file || disabled.includes(a.key)) continue;
      stopped.push({ policy: m.id, resourceIndex, reason });
      disabled.push(a.key);
    }
  }

  /**
   * Runs every user policy on the job, synchronously, in one call. A policy that runs over the budget or the heap
   * limit is stopped and the job is run again without it (each attempt stops one policy, so attempts are bounded).
   * `stopped` may name a policy already stopped on this job (runBatch's), which then does not run again.
   */
  run(job: SandboxJob, timeoutMs = this.opts.timeoutMs, stopped: StoppedPolicy[] = [], disabled: string[] = [...this.notAdopted()]): SandboxResult {
    const active = job.only !== undefined ? 1 : this.active.size;
    let resent = false;
    for (let attempt = 0; attempt <= active; attempt++) {
      this.progress.fill(-1);
      let out: string;
      try {
        out = this.runRef.applySync(undefined, [this.jobJson(job, disabled)], { timeout: timeoutMs });
      } catch (err) {
        const reason = this.reason(err, timeoutMs);
        const [file, resourceIndex, policyIndex] = this.progressCells();
        if (this.isolate.isDisposed) this.reboot();
        if (file === -2) return this.runFileByFile(job, timeoutMs, disabled, stopped);
        this.blame(file, resourceIndex, policyIndex, reason, disabled, stopped);
        continue;
      }
      const parsed: unknown = out === '!' ? null : parseAnswer(out);
      if (parsed === UNKNOWN_CONTEXT && !resent) {
        // The isolate forgot the context (or never got it): the same attempt again, with the context's JSON.
        resent = true;
        this.forget(job);
        attempt--;
        continue;
      }
      return this.answer(job, parsed, timeoutMs, disabled, stopped);
    }
    return { findings: [], stopped, checks: {} };
  }

  /** [file, resource, policy-in-file, job-in-batch] as the isolate last wrote them. */
  private progressCells(): [number, number, number, number] {
    const v = this.progressView;
    return [v.getInt32(0, true), v.getInt32(4, true), v.getInt32(8, true), v.getInt32(12, true)];
  }

  /** Notes that the isolate does not hold a job's context: the next job naming it carries its JSON. */
  private forget(job: SandboxJob): void {
    this.sent.delete(this.contextOf(job.cluster).id);
  }

  /**
   * Stops the policy that was running when the isolate was stopped (file, resource and policy from `progress`), or,
   * stopped outside any policy's validate (a file's own code), every policy of that file, or of all files.
   */
  private blame(file: number, resourceIndex: number, policyIndex: number, reason: string, disabled: string[], stopped: StoppedPolicy[]): void {
    const culprit = this.files[file]?.policies[policyIndex];
    const before = stopped.length;
    if (culprit) this.stop([culprit], file, resourceIndex, reason, disabled, stopped);
    if (stopped.length > before) return;
    const blamed = this.files[file] ? [file] : this.files.map((_, i) => i);
    for (const i of blamed) this.stop(this.files[i].policies, i, -1, reason, disabled, stopped);
  }

  /**
   * The result of one job from the isolate's parsed answer (null: the engine failed, so the files run one at a time;
   * anything else but an object: nothing usable was said).
   */
  private answer(job: SandboxJob, parsed: unknown, timeoutMs: number, disabled: string[], stopped: StoppedPolicy[] = []): SandboxResult {
    if (parsed === null) return this.runFileByFile(job, timeoutMs, disabled, stopped);
    const result: SandboxResult = { findings: [], stopped, checks: {} };
    this.collect(typeof parsed === 'object' ? (parsed as Answer) : undefined, job, disabled, result);
    return result;
  }

  /**
   * Several jobs (the admission reviews of one event-loop turn), each judged as `run` judges it, in as few calls
   * into the isolate as can be: up to MAX_BATCH jobs a call, the results in the jobs' order. Each call has the
   * budget of one job; a stop is blamed on a policy only when the job it ran had that budget to itself (the first
   * of its call): a stop later in a call keeps the answers before it and runs the rest again from the stopped job
   * on, in a call of their own. So a runaway policy is stopped on its own review only, and no review's answer is
   * lost or blamed for another's.
   */
  runBatch(jobs: readonly SandboxJob[], timeoutMs = this.opts.timeoutMs): SandboxResult[] {
    const results: SandboxResult[] = [];
    let from = 0;
    while (from < jobs.length) from += this.runChunk(jobs.slice(from, from + MAX_BATCH), timeoutMs, results);
    return results;
  }

  /** One call with up to MAX_BATCH jobs; adds the results of the first jobs, and says how many (at least one). */
  private runChunk(jobs: readonly SandboxJob[], timeoutMs: number, into: SandboxResult[]): number {
    if (jobs.length === 1) return into.push(this.run(jobs[0], timeoutMs)), 1;
    const disabled = this.notAdopted();
    this.progress.fill(-1);
    let answers: unknown[];
    try {
      answers = JSON.parse(this.batchRef.applySync(undefined, [`[${jobs.map((j) => this.jobJson(j, disabled)).join(',')}]`], { timeout: timeoutMs }));
    } catch (err) {
      return this.afterStop(jobs, timeoutMs, this.reason(err, timeoutMs), into);
    }
    jobs.forEach((job, i) => into.push(this.answerOrRun(job, answers[i] ?? null, timeoutMs, disabled)));
    return jobs.length;
  }

  /** A job's result from its answer in a batch; a job whose context the isolate did not hold is run again on its own. */
  private answerOrRun(job: SandboxJob, parsed: unknown, timeoutMs: number, disabled: readonly string[]): SandboxResult {
    if (parsed === UNKNOWN_CONTEXT) {
      this.forget(job);
      return this.run(job, timeoutMs);
    }
    return this.answer(job, parsed, timeoutMs, [...disabled]);
  }

  /** After a call of runChunk was stopped: the answers before the stopped job kept, the stopped job judged again. */
  private afterStop(jobs: readonly SandboxJob[], timeoutMs: number, reason: string, into: SandboxResult[]): number {
    const [file, resourceIndex, policyIndex, stoppedAt] = this.progressCells();
    const disposed = this.isolate.isDisposed;
    if (disposed) this.reboot();
    // Not in a job (a promise job run after the last one, or before the first): each job on its own finds the culprit.
    if (file === -2 || stoppedAt < 0 || stoppedAt >= jobs.length) {
      for (const job of jobs) into.push(this.run(job, timeoutMs));
      return jobs.length;
    }
    const disabled = this.notAdopted();
    if (stoppedAt > 0) {
      // The jobs before the stopped one were answered: read their answers (lost with a disposed isolate: run again).
      const answers = disposed ? [] : (JSON.parse(this.answeredRef.applySync(undefined, [], { timeout: timeoutMs })) as unknown[]);
      for (let i = 0; i < stoppedAt; i++) into.push(i < answers.length ? this.answerOrRun(jobs[i], answers[i], timeoutMs, disabled) : this.run(jobs[i], timeoutMs));
      return stoppedAt;
    }
    // The first job had the whole budget: its running policy is the culprit, stopped on this job only.
    const stopped: StoppedPolicy[] = [];
    const own = [...disabled];
    this.blame(file, resourceIndex, policyIndex, reason, own, stopped);
    into.push(this.run(jobs[0], timeoutMs, stopped, own));
    return 1;
  }

  /**
   * A stop after the engine had returned came from a promise job a file queued (or the engine failed as a whole):
   * run the files one at a time to find which, so that only that file's policies are stopped and no other file's
   * verdict is lost or blamed.
   */
  private runFileByFile(job: SandboxJob, timeoutMs: number, disabled: string[], stopped: StoppedPolicy[]): SandboxResult {
    const result: SandboxResult = { findings: [], stopped, checks: {} };
    this.files.forEach((file, i) => {
      const json = this.jobJson(job, disabled, true);
      let out: string;
      try {
        out = this.runRef.applySync(undefined, [json, i], { timeout: timeoutMs });
      } catch (err) {
        const reason = this.reason(err, timeoutMs);
        if (this.isolate.isDisposed) this.reboot();
        this.stop(file.policies, i, -1, reason, disabled, stopped);
        return;
      }
      if (out === '!') this.stop(file.policies.filter((m) => job.only === undefined || m.id === job.only), i, -1, 'the policy file failed outside validate()', disabled, stopped);
      else this.collect(parseAnswer(out), job, disabled, result, i);
    });
    return result;
  }

  /**
   * The job as the isolate reads it: the cluster context as its number, with its JSON only when the isolate may not
   * hold it yet (`withContext`: always). Written out field by field: JSON.stringify of a spread copy
   * (`{ ...job, cluster: undefined }`) took twice as long as of this literal for the bench Deployment (8–9.6 against
   * ~4 µs). A field added to GuestJob must be added here too.
   */
  private jobJson(job: SandboxJob, disabled: readonly string[], withContext = false): string {
    const context = this.contextOf(job.cluster);
    let clusterJson: string | undefined;
    if (withContext || !this.sent.has(context.id)) {
      // Mirrors the isolate's own bound (it forgets every context past MAX_CONTEXTS); a miss is answered UNKNOWN_CONTEXT.
      if (this.sent.size >= MAX_CONTEXTS) this.sent.clear();
      this.sent.add(context.id);
      clusterJson = context.json;
    }
    const out: GuestJob = {
      context: context.id,
      clusterJson,
      objects: job.objects,
      operation: job.operation,
      oldObject: job.oldObject,
      username: job.username,
      scopes: job.scopes,
      namespaceLabels: job.namespaceLabels,
      disabled: disabled as string[],
      only: job.only,
      countChecks: job.countChecks,
      now: job.now,
    };
    return JSON.stringify(out);
  }

  /** Numbers of the cluster contexts jobs named, with their JSON (read once per context object). */
  private readonly contexts = new WeakMap<object, { id: number; json: string }>();
  private nextContext = 0;
  /** Numbers of the contexts the isolate was sent (a hint: the isolate says when it does not hold one). */
  private readonly sent = new Set<number>();

  private contextOf(cluster: SandboxJob['cluster']): { id: number; json: string } {
    let c = this.contexts.get(cluster);
    if (c === undefined) this.contexts.set(cluster, (c = { id: this.nextContext++, json: JSON.stringify(cluster) }));
    return c;
  }

  /**
   * Checks what the isolate said: only adopted, running policies (of `onlyFile`, when given) speak, each field is
   * checked, and an error finding names the line of the policy's own file where it threw.
   */
  private collect(parsed: Answer | undefined, job: SandboxJob, disabled: string[], into: SandboxResult, onlyFile = -1): void {
    const speaks = (id: unknown): Active | undefined => {
      const a = typeof id === 'string' ? this.active.get(id) : undefined;
      return a && !disabled.includes(a.key) && (onlyFile < 0 || a.file === onlyFile) ? a : undefined;
    };
    for (const raw of Array.isArray(parsed?.findings) ? (parsed.findings as Record<string, unknown>[]) : []) {
      const a = raw ? speaks(raw.policy) : undefined;
      if (!a) continue;
      const meta = a.meta;
      const ri = Number.isInteger(raw.resourceIndex) && (raw.resourceIndex as number) < job.objects.length ? (raw.resourceIndex as number) : -1;
      const segments = Array.isArray(raw.segments) ? raw.segments.filter((s) => typeof s === 'string' || typeof s === 'number') : [];
      const resource = (raw.resource ?? {}) as Record<string, unknown>;
      let message = String(raw.message ?? '').slice(0, MAX_MESSAGE);
      if (raw.error === true) {
        const site = Array.isArray(raw.site) && raw.site.every(Number.isInteger) ? (raw.site as Site) : undefined;
        const at = this.locate(this.files[a.file], site);
        if (at) message = `${message} (at ${at.file}:${at.line}:${at.column})`;
      }
      into.findings.push({
        policy: meta.id,
        severity: SEVERITIES.includes(raw.severity as never) ? (raw.severity as WorkerFinding['severity']) : meta.severity,
        action: ACTIONS.includes(raw.action as never) ? (raw.action as WorkerFinding['action']) : meta.action,
        message,
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
    const checks = parsed?.checks;
    if (checks && typeof checks === 'object')
      for (const [id, n] of Object.entries(checks as Record<string, unknown>)) if (speaks(id) && typeof n === 'number') into.checks[id] = n;
    // Per-object severities speak only up to the highest severity of the policies that speak in this answer.
    const top = parsed?.topSeverity;
    if (Array.isArray(top) && top.length === job.objects.length) {
      let cap = 0;
      if (!disabled.length && onlyFile < 0) cap = this.capAll ??= Math.max(0, ...[...this.active.values()].map((a) => SEVERITY_RANK[a.meta.severity] ?? 0));
      else for (const a of this.active.values()) if (speaks(a.meta.id) === a) cap = Math.max(cap, SEVERITY_RANK[a.meta.severity] ?? 0);
      into.topSeverity = mergeTopSeverity(into.topSeverity, top, cap);
    }
  }

  dispose(): void {
    if (!this.isolate.isDisposed) this.isolate.dispose();
  }
}

/** What the isolate answers for one job (checked field by field by `collect`). */
type Answer = { findings?: unknown; checks?: unknown; topSeverity?: unknown };

function parseAnswer(out: string): Answer | undefined {
  try {
    return JSON.parse(out) as Answer;
  } catch {
    return undefined;
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
