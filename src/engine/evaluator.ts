import type { Policy } from '../authoring/index.js';
import { Inventory, SEVERITY_RANK, refOf, type Finding, type KubeObject, type Resource, type ResourceRef } from '../model/index.js';
import type { ClusterContext } from './context.js';
import { resolveAction } from './context.js';
import { ClusterEngine, type EvaluateOptions, type Evaluation } from './engine.js';
import { isExceptionObject, isExpired, noteFindingImage, parseException, type PolicyException } from './exceptions.js';
import type { SandboxOptions, SandboxResult } from './sandbox/host.js';
import type { SandboxJob } from './sandbox/protocol.js';
import { sandboxOf, type PolicySandbox } from './sandbox/registry.js';
import { skipsUpdate } from './update-semantics.js';

/** What an evaluation returns: the Evaluation itself when the evaluator is synchronous, a promise of it otherwise. */
export type Result<Sync extends boolean, T = Evaluation> = Sync extends true ? T : Promise<T>;

/** One object changed in a cluster whose inventory the caller keeps (fleetgate watch). */
export interface Change {
  /** The object as it is now; for a deletion, the object as it was. */
  object: KubeObject;
  deleted?: boolean;
}

/** The verdict on a change, and what it replaces in the caller's previous verdict. */
export interface ChangeEvaluation extends Evaluation {
  /**
   * What was judged again: every finding the caller holds about these objects, and every finding of these
   * cluster-scope policies, is replaced by this evaluation's findings.
   */
  reevaluated: { objects: ResourceRef[]; clusterPolicies: string[] };
}

/**
 * A policy set bound to one cluster context, ready to judge. See `src/engine/index.ts` for the whole contract.
 * `Evaluator` (no argument) is the union of the synchronous and the asynchronous one: `if (ev.sync)` narrows it.
 */
export type Evaluator<Sync extends boolean = boolean> = Sync extends true ? EvaluatorOf<true> : EvaluatorOf<false>;

/** An evaluator whose mode is `Sync`: decided when it is made, `true` when every policy runs on the calling thread. */
export interface EvaluatorOf<Sync extends boolean> {
  readonly sync: Sync;
  readonly policies: readonly Policy[];
  /** The bound cluster's name and labels. */
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Whether any policy could judge objects of this kind (the webhook skips work for kinds nobody polices). */
  appliesTo(kind: string): boolean;
  /** The cluster's system namespaces (parameter `systemNamespaces`, or the label fleetgate.io/system=true). */
  isSystemNamespace(name: string | undefined, labels?: Record<string, string>): boolean;
  /** A whole inventory: object- and namespace-scope policies per object, cluster-scope policies once (all scopes by default). */
  evaluate(resources: readonly Resource[], opts?: EvaluateOptions): Result<Sync>;
  /** One object on its own (admission): object and namespace scopes; checks are not counted. */
  evaluateObject(object: KubeObject, opts?: EvaluateOptions): Result<Sync>;
  /**
   * One changed object against the inventory the caller keeps, which already holds the change (a deleted object
   * is no longer in it). Judges the changed object, every object of a changed Namespace, and the cluster-scope
   * policies over the inventory; a changed PolicyException judges everything again.
   */
  evaluateChange(inventory: readonly Resource[], change: Change, opts?: EvaluateOptions): Result<Sync, ChangeEvaluation>;
  /** The same policies for another cluster context, sharing workers (a fleet scan makes one per cluster). */
  forCluster(cluster: ClusterContext): Evaluator<Sync>;
  /** Releases the workers (only the evaluator that started them does). */
  close(): Promise<void>;
}

export interface EvaluatorOptions {
  /** Budget and workers for users' policies (those loaded from files); ignored when there are none. */
  sandbox?: SandboxOptions;
  /**
   * With users' policies: an asynchronous evaluator that judges the objects given in one turn of the event loop
   * in one call into the isolate (`evaluateObject` only; built-in policies still run at once). The webhook's mode:
   * one call per review costs more than the users' policies in it. Ignored when there are no users' policies
   * (the evaluator stays synchronous).
   */
  perTurn?: boolean;
}

/**
 * Built-in and users' policies for one cluster: synchronous when no policy comes from a user's file, otherwise
 * users' policies in the isolate where a runaway one is stopped at its budget (also synchronous).
 */
export async function createEvaluator(policies: readonly Policy[], cluster: ClusterContext = {}, options: EvaluatorOptions = {}): Promise<Evaluator> {
  new ClusterEngine(policies, cluster); // one check for duplicate ids across built-in and user policies
  const user = policies.filter((p) => p.file);
  if (!user.length) return inProcessEvaluator(policies, cluster);
  // Users' policies were loaded into one sandbox (a V8 isolate) by loadPolicySet; this evaluator calls into it.
  const hosts = new Set(user.map((p) => sandboxOf(p)));
  if (hosts.has(undefined)) throw new Error('a user policy was not loaded by loadPolicySet (it has no sandbox)');
  if (hosts.size > 1) throw new Error('user policies from more than one loadPolicySet call cannot share an evaluator');
  const [host] = hosts as Set<PolicySandbox>;
  const sandboxed = new SandboxedEvaluator(policies, cluster, host, options.sandbox?.timeoutMs ?? 10_000, true);
  return options.perTurn ? new PerTurnEvaluator(sandboxed) : sandboxed;
}

/** Every policy on the calling thread, whoever wrote it (`fleetgate test`, policies' own examples, the sandbox worker). */
export function inProcessEvaluator(policies: readonly Policy[], cluster: ClusterContext = {}): Evaluator<true> {
  return new InProcessEvaluator(policies, cluster);
}

/** Scopes an admission review runs. */
const OBJECT_SCOPES = ['object', 'namespace'] as const;

/**
 * The waivers in force in an inventory, for judging part of it. Invalid and expired ones are reported by the
 * cluster-scope part of a change (as fleetgate.exception-* findings), not by every object they could waive.
 */
function waiversIn(inventory: readonly Resource[], opts: EvaluateOptions): PolicyException[] {
  const now = opts.now ?? new Date();
  const out: PolicyException[] = [];
  for (const r of inventory) {
    if (!isExceptionObject(r.object)) continue;
    const e = parseException(r.object);
    if (typeof e !== 'string' && !isExpired(e, now)) out.push(e);
  }
  for (const e of opts.exceptions ?? []) if (!isExpired(e, now)) out.push(e);
  return out;
}

/**
 * What judging part of an inventory with the object and namespace scopes needs from the whole of it: the waivers
 * in force and the namespaces' labels. Judging every part so, then the cluster scope once over the whole, gives
 * the findings one evaluation of the whole gives (a change re-judges its objects so; lint judges a large
 * inventory file by file so, to hold only a part's findings at a time).
 */
export function inventoryContext(inventory: readonly Resource[], opts: EvaluateOptions = {}): Pick<EvaluateOptions, 'exceptions' | 'namespaceLabels'> {
  return { exceptions: waiversIn(inventory, opts), namespaceLabels: namespaceLabelsOf(inventory, opts) };
}

/** Which resources a change asks to judge again (undefined: all of them, the change was a waiver). */
function affected(inventory: readonly Resource[], change: Change): Resource[] | undefined {
  const o = change.object;
  if (isExceptionObject(o)) return undefined;
  const out: Resource[] = [];
  const own = !change.deleted ? (inventory.find((r) => r.object === o) ?? { object: o }) : undefined;
  if (own) out.push(own);
  const name = o.metadata?.name;
  if (o.kind === 'Namespace' && typeof name === 'string')
    for (const r of inventory) if (r.object !== o && r.object.metadata?.namespace === name && !isExceptionObject(r.object)) out.push(r);
  return out;
}

class InProcessEvaluator implements Evaluator<true> {
  readonly sync = true as const;
  readonly name?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly core: ClusterEngine;

  constructor(
    readonly policies: readonly Policy[],
    protected readonly cluster: ClusterContext,
  ) {
    this.core = new ClusterEngine(policies, cluster);
    this.name = this.core.name;
    this.labels = this.core.labels;
  }

  appliesTo(kind: string): boolean {
    return this.core.hasPoliciesFor(kind);
  }

  isSystemNamespace(name: string | undefined, labels?: Record<string, string>): boolean {
    return this.core.isSystemNamespace(name, labels);
  }

  evaluate(resources: readonly Resource[], opts: EvaluateOptions = {}): Evaluation {
    return this.core.evaluate(resources, opts);
  }

  evaluateObject(object: KubeObject, opts: EvaluateOptions = {}): Evaluation {
    return this.core.evaluate([{ object }], { scopes: OBJECT_SCOPES, ...opts, countChecks: false });
  }

  evaluateChange(inventory: readonly Resource[], change: Change, opts: EvaluateOptions = {}): ChangeEvaluation {
    const targets = affected(inventory, change);
    const clusterPolicies = this.core.clusterPolicyIds();
    if (!targets) return { ...this.evaluate(inventory, opts), reevaluated: { objects: inventory.map((r) => refOf(r.object)), clusterPolicies } };
    const exceptions = waiversIn(inventory, opts);
    const objects = this.core.evaluate(targets, { ...opts, exceptions, scopes: OBJECT_SCOPES, namespaceLabels: namespaceLabelsOf(inventory, opts) });
    const cluster = this.core.evaluate(inventory, { ...opts, scopes: ['cluster'] });
    return merge(objects, cluster, { objects: targets.map((r) => refOf(r.object)), clusterPolicies });
  }

  forCluster(cluster: ClusterContext): Evaluator<true> {
    return new InProcessEvaluator(this.policies, cluster);
  }

  async close(): Promise<void> {}
}

/** Namespace labels from the caller's source first, then from the Namespaces in the inventory. */
function namespaceLabelsOf(inventory: readonly Resource[], opts: EvaluateOptions): EvaluateOptions['namespaceLabels'] {
  let index: Inventory | undefined;
  return (name) => opts.namespaceLabels?.(name) ?? (index ??= new Inventory(inventory)).namespaceLabels(name);
}

/** The object-scope part and the cluster-scope part of a change's verdict, as one. */
function merge(objects: Evaluation, cluster: Evaluation, reevaluated: ChangeEvaluation['reevaluated']): ChangeEvaluation {
  return {
    findings: [...objects.findings, ...cluster.findings],
    waived: objects.waived + cluster.waived,
    exempt: objects.exempt,
    objects: objects.objects,
    exceptions: cluster.exceptions,
    checks: objects.checks,
    ...(objects.topSeverity ? { topSeverity: objects.topSeverity } : {}),
    reevaluated,
  };
}

/**
 * Built-in policies on the calling thread (the fast path), users' policies in the sandbox, where a runaway one
 * can be stopped; their findings are merged and waived alike.
 */
class SandboxedEvaluator implements Evaluator<true> {
  // Users' policies run in a V8 isolate called synchronously with a time budget: no promise, no thread hop.
  readonly sync = true as const;
  private readonly trusted: InProcessEvaluator;
  /** Every policy compiled on this thread for matching only (which kinds, which cluster-scope ids); users' code never runs here. */
  private readonly matcher: ClusterEngine;
  /** Users' policies alone, for matching only: which kinds could reach the sandbox at all. */
  private readonly userMatcher: ClusterEngine;
  /** Whether a user policy judges whole inventories (cluster scope): then every evaluation of that scope reaches the sandbox. */
  private readonly userClusterScope: boolean;
  private readonly userPolicies: Map<string, Policy>;

  constructor(
    readonly policies: readonly Policy[],
    private readonly cluster: ClusterContext,
    private readonly sandbox: PolicySandbox,
    private readonly timeoutMs: number,
    private readonly owner: boolean,
  ) {
    this.trusted = new InProcessEvaluator(
      policies.filter((p) => !p.file),
      cluster,
    );
    this.matcher = new ClusterEngine(policies, cluster);
    const user = policies.filter((p) => p.file);
    this.userMatcher = new ClusterEngine(user, cluster);
    this.userClusterScope = user.some((p) => p.scope === 'cluster');
    this.userPolicies = new Map(user.map((p) => [p.id, p]));
  }

  get name(): string | undefined {
    return this.trusted.name;
  }

  get labels(): Readonly<Record<string, string>> {
    return this.trusted.labels;
  }

  appliesTo(kind: string): boolean {
    return this.matcher.hasPoliciesFor(kind);
  }

  isSystemNamespace(name: string | undefined, labels?: Record<string, string>): boolean {
    return this.trusted.isSystemNamespace(name, labels);
  }

  evaluate(resources: readonly Resource[], opts: EvaluateOptions = {}): Evaluation {
    const main = this.trusted.evaluate(resources, opts);
    return this.withUserPolicies(main, resources, opts);
  }

  evaluateObject(object: KubeObject, opts: EvaluateOptions = {}): Evaluation {
    const started = this.startObject(object, opts);
    return 'job' in started ? this.finishObject(started, this.sandbox.run(started.job, this.timeoutMs)) : started;
  }

  /**
   * The built-ins' verdict on one object now, and the job for the users' policies in the sandbox; or the whole
   * evaluation when no user policy could judge the object (the sandbox is not called).
   */
  startObject(object: KubeObject, opts: EvaluateOptions = {}): Evaluation | PendingObject {
    const main = this.trusted.evaluateObject(object, opts);
    // Built-ins count no checks at admission; the users' policies that judged the object are kept in `checks`
    // (the webhook's per-policy metrics count their passes from it).
    const userOpts: EvaluateOptions = { scopes: OBJECT_SCOPES, ...opts };
    const judged = isExceptionObject(object) ? [] : [{ object }];
    if (!this.reachesSandbox(judged, userOpts)) return this.mergeUserResult(main, judged, nothingApplied(judged, userOpts));
    return { main, judged, job: this.sandboxJob(judged, userOpts) };
  }

  /** A started object's evaluation once the sandbox answered its job. */
  finishObject(started: PendingObject, result: SandboxResult): Evaluation {
    return this.mergeUserResult(started.main, started.judged, result);
  }

  /** The sandbox the users' policies run in, and the budget of one job. */
  get host(): { sandbox: PolicySandbox; timeoutMs: number } {
    return { sandbox: this.sandbox, timeoutMs: this.timeoutMs };
  }

  evaluateChange(inventory: readonly Resource[], change: Change, opts: EvaluateOptions = {}): ChangeEvaluation {
    const targets = affected(inventory, change);
    const clusterPolicies = this.matcher.clusterPolicyIds();
    if (!targets) return { ...this.evaluate(inventory, opts), reevaluated: { objects: inventory.map((r) => refOf(r.object)), clusterPolicies } };
    const objects = this.evaluate(targets, { ...opts, ...inventoryContext(inventory, opts), scopes: OBJECT_SCOPES });
    const cluster = this.evaluate(inventory, { ...opts, scopes: ['cluster'] });
    return merge(objects, cluster, { objects: targets.map((r) => refOf(r.object)), clusterPolicies });
  }

  forCluster(cluster: ClusterContext): SandboxedEvaluator {
    return new SandboxedEvaluator(this.policies, cluster, this.sandbox, this.timeoutMs, false);
  }

  /**
   * Runs users' policies on the same resources in the isolate (synchronously, within the budget) and adds their
   * findings, waived by the same exceptions. The two never mix: a user policy that throws, runs over budget or is
   * stopped yields an error finding for that policy, and the built-in findings are kept as they are.
   */
  private withUserPolicies(main: Evaluation, resources: readonly Resource[], opts: EvaluateOptions): Evaluation {
    const judged = resources.filter((r) => !isExceptionObject(r.object));
    const result = this.reachesSandbox(judged, opts) ? this.sandbox.run(this.sandboxJob(judged, opts), this.timeoutMs) : nothingApplied(judged, opts);
    return this.mergeUserResult(main, judged, result);
  }

  /**
   * Whether any user policy could judge these objects: one of them has a kind some user policy names (autogen
   * included), or cluster-scope user policies are asked to run. When none could, the sandbox would only hand back
   * what `nothingApplied` says, so it is not called (an admission review of a kind no user policy names costs what
   * it costs with built-ins alone).
   */
  private reachesSandbox(judged: readonly Resource[], opts: EvaluateOptions): boolean {
    if (this.userClusterScope && (!opts.scopes || opts.scopes.includes('cluster'))) return true;
    if (!objectScopesRun(opts)) return false;
    return judged.some((r) => this.userMatcher.hasPoliciesFor(typeof r.object.kind === 'string' ? r.object.kind : ''));
  }

  /** The job for users' policies on the judged resources in the isolate. */
  private sandboxJob(judged: readonly Resource[], opts: EvaluateOptions): SandboxJob {
    let namespaceLabels: Record<string, Record<string, string>> | undefined;
    if (opts.namespaceLabels) {
      namespaceLabels = {};
      for (const r of judged) {
        const ns = r.object.kind === 'Namespace' ? undefined : r.object.metadata?.namespace;
        const labels = ns ? opts.namespaceLabels(ns) : undefined;
        if (ns && labels) namespaceLabels[ns] = labels;
      }
    }
    return {
      cluster: this.cluster,
      objects: judged.map((r) => r.object),
      operation: opts.operation,
      oldObject: opts.oldObject,
      username: opts.username,
      scopes: opts.scopes ? [...opts.scopes] : undefined,
      namespaceLabels,
      now: (opts.now ?? new Date()).getTime(),
    };
  }

  /** The sandbox's findings on our own copies of the resources, waived by the same exceptions, joined to the built-ins'. */
  private mergeUserResult(main: Evaluation, judged: readonly Resource[], result: SandboxResult): Evaluation {
    const findings: Finding[] = [];
    for (const { resourceIndex, segments, ...f } of result.findings) {
      if (!this.userPolicies.has(f.policy)) continue; // a file reports only for its own accepted ids
      const r = judged[resourceIndex];
      const source = r?.locate?.(segments);
      // The resource is named from our own copy of the object, not from what the sandbox said.
      const finding: Finding = r ? { ...f, resource: refOf(r.object) } : f;
      if (source) finding.source = source;
      if (r) noteFindingImage(finding, r.object, segments); // image-scoped exceptions
      findings.push(finding);
    }
    for (const s of result.stopped) {
      if (!this.userPolicies.has(s.policy)) continue;
      findings.push(this.stoppedFinding(s.policy, s.reason, judged[s.resourceIndex] ?? (judged.length === 1 ? judged[0] : undefined)));
    }
    const { kept, waived } = this.trusted.core.applyExceptions(findings, main.exceptions);
    const topSeverity = higherOf(main.topSeverity, result.topSeverity);
    return { ...main, findings: [...main.findings, ...kept], waived: main.waived + waived, checks: { ...main.checks, ...result.checks }, ...(topSeverity ? { topSeverity } : {}) };
  }

  /** A policy that had to be stopped is an error finding (fail-open or fail-closed is the caller's choice). */
  private stoppedFinding(id: string, reason: string, resource: Resource | undefined): Finding {
    const policy = this.userPolicies.get(id);
    const object = resource?.object;
    const f: Finding = {
      policy: id,
      severity: policy?.severity ?? 'high',
      action: policy ? resolveAction(policy, this.cluster.actions) : 'deny',
      message: `policy error: stopped (${reason})${policy?.file ? ` in ${policy.file}` : ''}`,
      resource: object ? refOf(object) : { apiVersion: '', kind: '', name: '' },
      path: '$',
      error: true,
    };
    const source = resource?.locate?.([]);
    if (source) f.source = source;
    return f;
  }

  async close(): Promise<void> {
    if (this.owner) this.sandbox.dispose();
  }
}

/** An object the built-ins judged, waiting for the users' policies' answer from the sandbox. */
interface PendingObject {
  main: Evaluation;
  judged: Resource[];
  job: SandboxJob;
}

/** A review waiting for the end of the turn. */
interface Queued {
  started: PendingObject;
  resolve: (e: Evaluation) => void;
  reject: (err: unknown) => void;
}

/**
 * The sandboxed evaluator, asynchronous: `evaluateObject` judges with the built-ins at once and queues the users'
 * part; at the end of the event loop's turn (setImmediate) every object queued in that turn goes into the isolate
 * in one call (PolicyHost.runBatch, at most MAX_BATCH a call), and each promise resolves with its own verdict. A
 * policy the sandbox had to stop on one object is an error finding on that object only. Whole inventories and
 * changes are judged at once, as the synchronous evaluator judges them.
 */
class PerTurnEvaluator implements Evaluator<false> {
  readonly sync = false as const;
  private queue: Queued[] = [];
  private readonly flush = () => this.runQueued();

  constructor(private readonly inner: SandboxedEvaluator) {}

  get policies(): readonly Policy[] {
    return this.inner.policies;
  }

  get name(): string | undefined {
    return this.inner.name;
  }

  get labels(): Readonly<Record<string, string>> {
    return this.inner.labels;
  }

  appliesTo(kind: string): boolean {
    return this.inner.appliesTo(kind);
  }

  isSystemNamespace(name: string | undefined, labels?: Record<string, string>): boolean {
    return this.inner.isSystemNamespace(name, labels);
  }

  evaluate(resources: readonly Resource[], opts?: EvaluateOptions): Promise<Evaluation> {
    return settled(() => this.inner.evaluate(resources, opts));
  }

  evaluateChange(inventory: readonly Resource[], change: Change, opts?: EvaluateOptions): Promise<ChangeEvaluation> {
    return settled(() => this.inner.evaluateChange(inventory, change, opts));
  }

  evaluateObject(object: KubeObject, opts?: EvaluateOptions): Promise<Evaluation> {
    let started: Evaluation | PendingObject;
    try {
      started = this.inner.startObject(object, opts);
    } catch (err) {
      return Promise.reject(err);
    }
    if (!('job' in started)) return Promise.resolve(started);
    const pending = started;
    return new Promise<Evaluation>((resolve, reject) => {
      if (this.queue.push({ started: pending, resolve, reject }) === 1) setImmediate(this.flush);
    });
  }

  /** Every object queued in this turn through the sandbox at once; each review gets its own verdict. */
  private runQueued(): void {
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    const { sandbox, timeoutMs } = this.inner.host;
    let results: SandboxResult[];
    try {
      results = sandbox.runBatch(
        batch.map((q) => q.started.job),
        timeoutMs,
      );
    } catch (err) {
      for (const q of batch) q.reject(err);
      return;
    }
    batch.forEach((q, i) => {
      try {
        q.resolve(this.inner.finishObject(q.started, results[i]));
      } catch (err) {
        q.reject(err);
      }
    });
  }

  forCluster(cluster: ClusterContext): Evaluator<false> {
    return new PerTurnEvaluator(this.inner.forCluster(cluster));
  }

  async close(): Promise<void> {
    this.runQueued(); // the reviews already queued are answered before the sandbox goes
    await this.inner.close();
  }
}

/** A synchronous evaluation as a promise (a throw as a rejection). */
function settled<T>(run: () => T): Promise<T> {
  try {
    return Promise.resolve(run());
  } catch (err) {
    return Promise.reject(err);
  }
}

/** Whether an evaluation with these options runs object- or namespace-scope policies (as ClusterEngine.evaluate decides). */
function objectScopesRun(opts: EvaluateOptions): boolean {
  return !opts.scopes || opts.scopes.includes('object') || opts.scopes.includes('namespace');
}

/**
 * What the sandbox answers when no user policy applies to any of the objects: no finding, no check, and a null
 * severity per object when its engine would have judged objects at all (not for cluster scope alone, nor for an
 * UPDATE it skips as insignificant).
 */
function nothingApplied(judged: readonly Resource[], opts: EvaluateOptions): SandboxResult {
  const skipped = judged.length === 1 && skipsUpdate({ operation: opts.operation, object: judged[0].object, oldObject: opts.oldObject });
  return { findings: [], stopped: [], checks: {}, ...(objectScopesRun(opts) && !skipped ? { topSeverity: judged.map(() => null) } : {}) };
}

/** Per object, the higher of the built-in and the users' policies' severities (both lists are in the judged order). */
function higherOf(a: Evaluation['topSeverity'], b: Evaluation['topSeverity']): Evaluation['topSeverity'] {
  if (!a || !b || a.length !== b.length) return a ?? b;
  return a.map((s, i) => (!s || (b[i] && SEVERITY_RANK[b[i]!] > SEVERITY_RANK[s]) ? (b[i] ?? s) : s));
}
