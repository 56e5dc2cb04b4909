import type { ClusterInfo, Policy } from '../../authoring/index.js';
import type { KubeObject, Resource, SourceLocation, PathSegments } from '../../model/index.js';
import type { ClusterContext } from '../context.js';
import { ClusterEngine, type Evaluation } from '../engine.js';
import { deepFreeze, loadPolicy, policiesOf, shim, type LoadedPolicy } from './guest.js';
import { MAX_CONTEXTS, UNKNOWN_CONTEXT, type GuestJob, type WorkerFinding } from './protocol.js';
import type { Site } from './sites.js';

/**
 * The isolate's side of the sandbox: every loaded file's policies, and one engine over all of them per cluster
 * context, so a job (a review, a lint run, a scanned cluster) is one call in, one pass over the objects by one copy
 * of the evaluation code, and one JSON string out. Reachable only through the host's reference (never a global).
 *
 * `progress` is shared with the host: [file, resource, policy-in-file, job-in-batch] of the policy running now, so
 * that after stopping the isolate the host knows whom to blame; -2 in the first cell once the engine has returned (a
 * stop then came from a promise job some file queued).
 */

/** Carries the resource index and path through the engine's `locate` hook, so the main thread can map them. */
interface Marker extends SourceLocation {
  resourceIndex: number;
  segments: PathSegments;
}

interface Bound {
  engine: ClusterEngine;
  /** Engine policy id → where it came from. */
  byId: Map<string, LoadedPolicy>;
}

/**
 * Freezes parsed JSON (plain data only: faster than the general deepFreeze, which reads descriptors). `for...in`
 * lists exactly the own keys here: a parsed object's prototype is Object.prototype, frozen with no enumerable
 * property before any file loads (bootstrap.ts); it builds no key array (Object.keys did, ~1 µs a job more).
 */
function freezeData<T>(v: T): T {
  if (typeof v !== 'object' || v === null) return v;
  Object.freeze(v);
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) freezeData(v[i]);
  else for (const k in v) freezeData((v as Record<string, unknown>)[k]);
  return v;
}

/** The engine's findings as the host reads them: plain fields, the resource index and path, where an error was thrown. */
function findingsOut(evaluation: Evaluation, sites: ReadonlyMap<string, Site>): (WorkerFinding & { site?: Site })[] {
  return evaluation.findings.map((f) => {
    const marker = f.source as Marker | undefined;
    const resourceIndex = marker?.resourceIndex ?? -1;
    const site = f.error ? sites.get(`${resourceIndex}\0${f.policy}`) : undefined;
    return {
      policy: f.policy,
      severity: f.severity,
      action: f.action,
      message: f.message,
      resource: f.resource,
      path: f.path,
      ...(f.error ? { error: true as const } : {}),
      resourceIndex,
      segments: marker?.segments ?? [],
      ...(site ? { site } : {}),
    };
  });
}

/** The engine's resources for a job's objects, each carrying its index through `locate`. */
function resourcesOf(objects: readonly KubeObject[]): readonly Resource[] {
  return Object.freeze(
    objects.map((object, resourceIndex) =>
      Object.freeze({ object, locate: Object.freeze((segments: PathSegments): Marker => ({ file: '', line: 0, column: 0, resourceIndex, segments })) }),
    ),
  );
}

/** What the dispatcher keeps between jobs: the files' policies, the bound engines, and the job in progress. */
class GuestState {
  readonly files: { script: string; policies: LoadedPolicy[] }[] = [];
  readonly engines = new Map<string, Bound>();
  /** The cluster contexts the host numbered (GuestJob.context), parsed and frozen. */
  readonly contexts = new Map<number, ClusterContext>();
  /** Where the policies that threw in this job threw: "resource\0policy" → bundle line and column. */
  readonly sites = new Map<string, Site>();
  resource = -1;
  runningId = '';
  /** The answers of the batch in progress so far (runBatch), for the host to read after a stop. */
  answered: string[] = [];

  constructor(private readonly progress: DataView) {}

  mark(file: number, res: number, pol: number): void {
    this.progress.setInt32(0, file, true);
    this.progress.setInt32(4, res, true);
    this.progress.setInt32(8, pol, true);
  }

  /** The active policies of the job (of `onlyFile` when given), each shimmed for the shared engine. */
  private activePolicies(job: GuestJob, onlyFile: number, cluster: ClusterInfo, byId: Map<string, LoadedPolicy>): Policy[] {
    const disabled = new Set(job.disabled);
    const active: Policy[] = [];
    this.files.forEach((f, i) => {
      if (onlyFile >= 0 && i !== onlyFile) return;
      for (const p of f.policies) {
        if (disabled.has(`${p.file}:${p.index}`) || byId.has(p.meta.id) || (job.only !== undefined && p.meta.id !== job.only)) continue;
        byId.set(p.meta.id, p);
        active.push(
          shim(p, cluster, f.script, (site) => {
            if (site && this.runningId === p.meta.id) this.sites.set(`${this.resource}\0${p.meta.id}`, site);
          }),
        );
      }
    });
    return active;
  }

  /** The engine bound for the job's context and policies; undefined when the job names a context not held here. */
  private engineFor(job: GuestJob, onlyFile: number): Bound | undefined {
    if (typeof job.clusterJson === 'string' && !this.contexts.has(job.context)) {
      if (this.contexts.size >= MAX_CONTEXTS) this.contexts.clear();
      this.contexts.set(job.context, deepFreeze(JSON.parse(job.clusterJson) as ClusterContext));
    }
    const key = `${job.context}|${job.disabled.join(',')}|${job.only ?? ''}|${onlyFile}`;
    let bound = this.engines.get(key);
    if (bound) return bound;
    const context = this.contexts.get(job.context);
    if (!context) return undefined;
    if (this.engines.size > 256) this.engines.clear();
    const cluster: ClusterInfo = deepFreeze({ name: context.name, labels: { ...(context.labels ?? {}) } });
    const byId = new Map<string, LoadedPolicy>();
    this.engines.set(key, (bound = { engine: new ClusterEngine(this.activePolicies(job, onlyFile, cluster, byId), context), byId }));
    return bound;
  }

  /** One pass of the bound engine over the job's objects, noting in `progress` which policy runs (undefined: unknown context). */
  evaluate(job: GuestJob, onlyFile: number): Evaluation | undefined {
    const bound = this.engineFor(job, onlyFile);
    if (!bound) return undefined;
    const { engine, byId } = bound;
    const labels = job.namespaceLabels;
    return engine.evaluate(resourcesOf(job.objects), {
      operation: job.operation,
      oldObject: job.oldObject,
      username: job.username,
      scopes: job.scopes,
      now: new Date(job.now),
      countChecks: job.countChecks,
      namespaceLabels: labels ? (name) => (Object.prototype.hasOwnProperty.call(labels, name) ? labels[name] : undefined) : undefined,
      onPolicy: (resourceIndex, id) => {
        const p = byId.get(id);
        this.resource = resourceIndex;
        this.runningId = id;
        this.mark(p ? p.file : -1, resourceIndex, p ? p.index : -1);
      },
    });
  }
}

/**
 * One job through the bound engine: the JSON of its answer, undefined when the engine itself failed, or the JSON
 * of UNKNOWN_CONTEXT when the job names a context this isolate does not hold.
 */
function runJob(state: GuestState, job: GuestJob, onlyFile: number): string | undefined {
  state.mark(-1, -1, -1);
  state.sites.clear();
  let out: string | undefined;
  try {
    const evaluation = state.evaluate(job, onlyFile);
    state.mark(-2, -1, -1);
    if (!evaluation) return UNKNOWN_ANSWER;
    out = JSON.stringify({ findings: findingsOut(evaluation, state.sites), checks: evaluation.checks, topSeverity: evaluation.topSeverity });
  } catch {
    out = undefined;
  }
  state.mark(-2, -1, -1);
  return out;
}

const UNKNOWN_ANSWER = JSON.stringify(UNKNOWN_CONTEXT);

/** The entry points the host holds references to (plain functions: the host calls them without a `this`). */
export function createDispatcher(progress: DataView, api: unknown) {
  const state = new GuestState(progress);
  return {
    /**
     * Runs a file's top level (`factory` is its wrapped bundle) and registers its policies. Returns the JSON of
     * their definitions; a file exporting none is not registered ("[]"). `factory` null holds a file's place
     * after a rebuilt isolate could not load it again.
     */
    add(factory: ((api: unknown) => unknown) | null, script: string): string {
      const file = state.files.length;
      state.mark(file, -1, -1);
      if (factory === null) {
        state.files.push({ script, policies: [] });
        return '[]';
      }
      const policies = policiesOf(factory(api)).map((p, i) => loadPolicy(p, file, i));
      if (policies.length) state.files.push({ script, policies });
      state.engines.clear();
      return JSON.stringify(policies.map((p) => p.meta));
    },

    /**
     * Runs every active policy of every file (or of `onlyFile`) on the job, frozen: one pass. The JSON of
     * { findings, checks, topSeverity }, or "!" when the engine itself failed (the host then runs the files one at a time).
     */
    run(jobJson: string, onlyFile = -1): string {
      progress.setInt32(12, -1, true);
      return runJob(state, freezeData(JSON.parse(jobJson) as GuestJob), onlyFile) ?? '!';
    },

    /**
     * Several jobs in one call (the admission reviews of one event-loop turn), one after the other: a JSON array of
     * their answers in order, null for a job whose engine failed. `progress[3]` says which job runs; what was
     * answered before a stop stays readable through `answered`.
     */
    runBatch(jobsJson: string): string {
      const jobs = JSON.parse(jobsJson) as GuestJob[];
      const answered: string[] = (state.answered = []);
      for (let i = 0; i < jobs.length; i++) {
        progress.setInt32(12, i, true);
        answered.push(runJob(state, freezeData(jobs[i]), -1) ?? 'null');
      }
      progress.setInt32(12, -1, true);
      state.answered = [];
      return `[${answered.join(',')}]`;
    },

    /** The answers of the batch stopped last, up to the job that was running (a JSON array, as runBatch's). */
    answered(): string {
      return `[${state.answered.join(',')}]`;
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
