import type { ClusterContext } from './context.js';
import type { ClusterScopeContext, NamespaceInfo, ObjectContext, Params, Policy, ReportOptions } from '../authoring/index.js';
import { bindPolicy, kindMatches, type BoundPolicy } from './bind.js';
import { query } from './query.js';
import { errorFindingOf, findingOf, metaFindingOf } from './findings.js';
import { imageOfFinding, isExceptionObject, isExpired, parseException, waives, type PolicyException } from './exceptions.js';
import { Inventory, type Resource } from '../model/index.js';
import { matchesConditions, ParameterError, parameterTypeProblems } from '../authoring/index.js';
import { getAt, splitDotted } from '../authoring/index.js';
import { POD_CONTROLLER_KINDS, PodView, isPodController } from '../authoring/index.js';
import { DEFAULT_SYSTEM_NAMESPACES, SYSTEM_NAMESPACE_LABEL, groupOf, labelsOf, refOf } from '../model/index.js';
import type { Action, Finding, KubeObject, Operation, PathSegments, Scope, Severity } from '../model/index.js';
import { SEVERITY_RANK } from '../model/index.js';
import { settle, skipsUpdate } from './update-semantics.js';

export { query } from './query.js';

/** Ids of the findings the engine itself raises about waivers. */
export const EXCEPTION_EXPIRED = 'fleetgate.exception-expired';
export const EXCEPTION_INVALID = 'fleetgate.exception-invalid';

export interface EvaluateOptions {
  /** Admission operation; lint and scan evaluate as CREATE. */
  operation?: Operation;
  oldObject?: KubeObject;
  /** The requesting user at admission (PSS `exemptUsernames`). */
  username?: string;
  /** Which scopes to run (admission: object + namespace). Default: all. */
  scopes?: readonly Scope[];
  /** Namespace labels from outside the inventory (the webhook's namespace cache). */
  namespaceLabels?: (name: string) => Record<string, string> | undefined;
  /** Waivers in addition to the PolicyException objects found among the resources. */
  exceptions?: readonly PolicyException[];
  now?: Date;
}

/** What the engine's own callers (the façade, the sandbox worker) may ask beyond EvaluateOptions. */
export interface RunOptions extends EvaluateOptions {
  /**
   * Called before each policy runs on each resource (resource index, or -1 for a cluster-scope policy).
   * The sandbox uses it to know which policy was running when it had to stop a runaway one.
   */
  onPolicy?: (resourceIndex: number, policyId: string) => void;
  /**
   * Count checks per policy into `Evaluation.checks` (default true). Admission turns it off: the webhook never reads
   * the counts, and building a record keyed by ~50 policy ids costs more than judging the object.
   */
  countChecks?: boolean;
}

export interface Evaluation {
  findings: Finding[];
  /** Findings an unexpired exception waived. */
  waived: number;
  /**
   * Objects a policy's own exemption kept out of the report (Pod Security's exempt namespaces, users and runtime
   * classes): counted, not reported. Only objects with at least one dropped finding count.
   */
  exempt?: number;
  /** Objects judged (PolicyException objects are not). */
  objects: number;
  /** The unexpired waivers that applied to this evaluation (so findings made elsewhere can be waived alike). */
  exceptions: PolicyException[];
  /**
   * Object- and namespace-scope checks made, per policy id: the number of objects a policy applied to (matched kind,
   * match and exclude held, so its validate ran). The scanner's score weighs these; cluster-scope policies are not counted.
   */
  checks: Record<string, number>;
  /**
   * Per judged object (in the order given, PolicyException objects left out): the highest severity among the
   * object- and namespace-scope policies that applied to it, or null when none did. Present when checks are
   * counted; the scanner's per-object score weighs objects by it.
   */
  topSeverity?: (Severity | null)[];
}

/** The policies that can judge objects of one kind/group under one operation, found once and reused. */
interface Plan {
  entries: { bound: BoundPolicy; /** Judged through its pod template (autogen), not as the kind itself. */ byTemplate: boolean }[];
}

/** Runs one policy on the object it was made for (see ClusterEngine.judgeOf). */
type Judge = (bound: BoundPolicy, pod: PodView | undefined) => void;

const ALL_SCOPES: readonly Scope[] = ['object', 'namespace', 'cluster'];
const OBJECT_SCOPES: readonly Scope[] = ['object', 'namespace'];

/**
 * The evaluation core: a policy set compiled for one cluster context (parameters merged, actions resolved,
 * matchers compiled, per-kind plans). Internal to the engine layer: entry points use the façade (evaluator.ts).
 */
export class ClusterEngine {
  readonly labels: Record<string, string>;
  readonly name?: string;
  /** kind → object/namespace-scope policies that may apply to it (autogen included). */
  private readonly byKind = new Map<string, BoundPolicy[]>();
  /** Object/namespace-scope policies matching kind `*`: candidates for every kind. */
  private readonly anyKind: BoundPolicy[] = [];
  private readonly clusterPolicies: BoundPolicy[] = [];
  private readonly objectPolicies: BoundPolicy[] = [];
  private readonly systemNamespaces: ReadonlySet<string>;
  private readonly policyById = (id: string): Policy | undefined => this.policyIndex.get(id);
  private readonly policyIndex = new Map<string, Policy>();
  /** kind → group → operation → the policies that may judge such an object (see planFor). */
  private readonly plans = new Map<string, Map<string, Partial<Record<Operation, Plan>>>>();

  constructor(policies: readonly Policy[], cluster: ClusterContext = {}) {
    const seen = new Set<string>();
    for (const p of policies) {
      if (seen.has(p.id)) throw new Error(`policy id "${p.id}" is defined twice${p.file ? ` (again in ${p.file})` : ''}`);
      seen.add(p.id);
    }
    this.labels = cluster.labels ?? {};
    this.name = cluster.name;
    const sys = cluster.parameters?.systemNamespaces;
    this.systemNamespaces = new Set(Array.isArray(sys) ? (sys as string[]) : DEFAULT_SYSTEM_NAMESPACES);
    // Declared parameter types are checked here, once per binding: a wrong type is the context's error, not the policy's.
    const wrongParams: string[] = [];
    for (const policy of policies) {
      if (policy.scope === 'fleet') continue; // judged over the whole fleet (engine/fleet.ts), never per cluster
      this.policyIndex.set(policy.id, policy);
      if (!matchesConditions(this.labels, policy.match.clusterLabels)) continue;
      if (policy.exclude?.clusterLabels && matchesConditions(this.labels, policy.exclude.clusterLabels)) continue;
      const bound = bindPolicy(policy, cluster);
      if (policy.paramSchemas) wrongParams.push(...parameterTypeProblems(policy, bound.params));
      if (policy.scope === 'cluster') {
        this.clusterPolicies.push(bound);
        continue;
      }
      bound.index = this.objectPolicies.push(bound) - 1;
      const kinds = new Set(bound.kinds.map((k) => k.kind));
      if (kinds.delete('*')) this.anyKind.push(bound);
      if (kinds.has('Pod')) for (const k of POD_CONTROLLER_KINDS) kinds.add(k);
      for (const k of kinds) {
        let list = this.byKind.get(k);
        if (!list) this.byKind.set(k, (list = []));
        list.push(bound);
      }
    }
    if (wrongParams.length) throw new ParameterError(`wrong parameter types${cluster.name ? ` for cluster ${cluster.name}` : ''}:\n${wrongParams.map((m) => `  ${m}`).join('\n')}`);
  }

  /** Evaluates a set of resources as one inventory: every object- and namespace-scope policy per object, cluster-scope policies once. */
  evaluate(resources: readonly Resource[], opts: RunOptions = {}): Evaluation {
    const scopes = opts.scopes ?? ALL_SCOPES;
    const findings: Finding[] = [];
    const exceptions: PolicyException[] = opts.exceptions ? [...opts.exceptions] : [];
    const judged: Resource[] = [];
    let hasNamespaces = false;
    // A DataView, not a Uint32Array: in the policy isolate (frozen intrinsics) a typed array's element store takes
    // V8's slow path (~37 ns a store), a DataView's does not; on the main thread the two cost the same.
    const counts = opts.countChecks === false ? undefined : new DataView(new ArrayBuffer(4 * this.objectPolicies.length));
    // Highest SEVERITY_RANK per judged object (0: no policy applied), filled beside the counts.
    let ranks: Uint8Array | undefined;
    const exempt = new Set<Resource>();
    for (const r of resources) {
      if (!isExceptionObject(r.object)) {
        judged.push(r);
        if (r.object.kind === 'Namespace') hasNamespaces = true;
        continue;
      }
      const parsed = parseException(r.object);
      if (typeof parsed === 'string') findings.push(metaFindingOf(r, EXCEPTION_INVALID, `invalid PolicyException: ${parsed}`));
      else exceptions.push(parsed);
    }
    // Indexed only when something needs it (admission judges one object and rarely does).
    let inventory: Inventory | undefined;
    const inventoryOf = () => (inventory ??= new Inventory(judged));
    const nsLabels = (name: string) => opts.namespaceLabels?.(name) ?? (hasNamespaces ? inventoryOf().namespaceLabels(name) : undefined);
    const scopeFilter = scopes === ALL_SCOPES || scopes === OBJECT_SCOPES || (scopes.includes('object') && scopes.includes('namespace')) ? undefined : scopes;
    if (scopeFilter === undefined || scopeFilter.includes('object') || scopeFilter.includes('namespace')) {
      // Admission semantics hook (src/update-semantics.ts): UPDATE and DELETE of the one object under review.
      const admitting = (opts.operation === 'UPDATE' || opts.operation === 'DELETE') && judged.length === 1 ? { ...opts, object: judged[0].object } : undefined;
      if (admitting && skipsUpdate(admitting)) return { findings, waived: 0, objects: judged.length, exceptions, checks: {} };
      if (counts) ranks = new Uint8Array(judged.length);
      for (let i = 0; i < judged.length; i++) this.evaluateResource(judged[i], i, opts, nsLabels, scopeFilter, findings, counts, exempt, ranks);
      if (admitting && findings.length) {
        const { oldObject } = opts;
        settle(findings, admitting, () => (oldObject ? this.evaluate([{ object: oldObject }], { ...opts, scopes, oldObject: undefined, operation: 'CREATE', exceptions: [], countChecks: false, onPolicy: undefined }).findings : []), this.policyById);
      }
    }
    if (scopes.includes('cluster')) this.evaluateCluster(inventoryOf(), nsLabels, findings, opts.onPolicy);
    const checks: Record<string, number> = {};
    if (counts)
      for (const bound of this.objectPolicies) {
        const n = counts.getUint32(4 * bound.index, true);
        if (n) checks[bound.policy.id] = n;
      }
    const top = ranks ? { topSeverity: Array.from(ranks, rankToSeverity) } : {};
    if (!exceptions.length) return { findings, waived: 0, exempt: exempt.size, objects: judged.length, exceptions, checks, ...top };
    const active = unexpired(exceptions, resources, opts.now ?? new Date(), findings);
    const { kept, waived } = this.applyExceptions(findings, active);
    return { findings: kept, waived, exempt: exempt.size, objects: judged.length, exceptions: active, checks, ...top };
  }

  /** Drops the findings that an (unexpired) exception waives in this cluster. */
  applyExceptions(findings: Finding[], exceptions: readonly PolicyException[]): { kept: Finding[]; waived: number } {
    if (!exceptions.length) return { kept: findings, waived: 0 };
    let waived = 0;
    const kept = findings.filter((f) => {
      const w = f.policy !== EXCEPTION_EXPIRED && f.policy !== EXCEPTION_INVALID && exceptions.some((e) => waives(e, f.policy, f.resource, this.labels, imageOfFinding(f)));
      if (w) waived++;
      return !w;
    });
    return { kept, waived };
  }

  /** Ids of the cluster-scope policies that run in this cluster, and of the engine's own waiver findings. */
  clusterPolicyIds(): string[] {
    return [...this.clusterPolicies.map((b) => b.policy.id), EXCEPTION_EXPIRED, EXCEPTION_INVALID];
  }

  /** Whether any policy could look at this kind (the webhook skips work for kinds nobody polices). */
  hasPoliciesFor(kind: string): boolean {
    return this.byKind.has(kind) || this.anyKind.length > 0;
  }

  isSystemNamespace = (name: string | undefined, labels?: Record<string, string>): boolean => {
    if (!name) return false;
    return this.systemNamespaces.has(name) || labels?.[SYSTEM_NAMESPACE_LABEL] === 'true';
  };

  /** The policies that may judge an object of this kind, group and operation (kind, autogen and operation resolved once). */
  private planFor(kind: string, group: string, operation: Operation): Plan | undefined {
    let byGroup = this.plans.get(kind);
    let byOperation = byGroup?.get(group);
    const known = byOperation?.[operation];
    if (known) return known;
    const listed = this.byKind.get(kind);
    // Kind-specific and `*` policies, in catalogue order (the order findings come out in).
    const candidates = !this.anyKind.length ? listed : [...(listed ?? []), ...this.anyKind.filter((b) => !listed?.includes(b))].sort((a, b) => a.index - b.index);
    if (!candidates) return undefined;
    const plan: Plan = { entries: [] };
    const controller = isPodController(kind, group);
    for (const bound of candidates) {
      if (!bound.operations.includes(operation)) continue;
      if (kindMatches(bound.kinds, kind, group)) plan.entries.push({ bound, byTemplate: false });
      // Autogen: a policy on core Pods also judges the pod templates of the built-in controllers.
      else if (controller && kindMatches(bound.kinds, 'Pod', '')) plan.entries.push({ bound, byTemplate: true });
    }
    if (!byGroup) this.plans.set(kind, (byGroup = new Map()));
    // Groups come from the objects judged: bound them so hostile input cannot grow the cache without limit.
    if (!byOperation) {
      if (byGroup.size >= 100) byGroup.clear();
      byGroup.set(group, (byOperation = {}));
    }
    byOperation[operation] = plan;
    return plan;
  }

  private evaluateResource(
    r: Resource,
    index: number,
    opts: RunOptions,
    nsLabels: (name: string) => Record<string, string> | undefined,
    scopeFilter: readonly Scope[] | undefined,
    findings: Finding[],
    counts: DataView | undefined,
    exempt: Set<Resource>,
    ranks?: Uint8Array,
  ): void {
    const obj = r.object;
    const kind = typeof obj.kind === 'string' ? obj.kind : '';
    if (!this.byKind.has(kind) && !this.anyKind.length) return;
    const operation = opts.operation ?? 'CREATE';
    const group = groupOf(obj.apiVersion);
    const plan = this.planFor(kind, group, operation);
    if (!plan || !plan.entries.length) return;
    const isNamespace = kind === 'Namespace' && group === '';
    const nsName = isNamespace ? obj.metadata?.name : obj.metadata?.namespace;
    const knownLabels = isNamespace ? labelsOf(obj) : typeof nsName === 'string' ? nsLabels(nsName) : undefined;
    const namespace: NamespaceInfo = {
      name: typeof nsName === 'string' ? nsName : undefined,
      labels: knownLabels ?? {},
      known: knownLabels !== undefined,
    };
    const objLabels = labelsOf(obj);
    let pod: PodView | undefined | null = null; // null: not computed yet (shared by every policy on this object)
    let judge: Judge | undefined; // made for the first policy that applies: most objects meet few policies
    for (const { bound, byTemplate } of plan.entries) {
      const { policy } = bound;
      if (scopeFilter && !scopeFilter.includes(policy.scope)) continue;
      if (pod === null && byTemplate) pod = PodView.of(obj);
      if (byTemplate && !pod) continue;
      if (bound.matchTest && !bound.matchTest(namespace, objLabels, kind, group)) continue;
      if (bound.excludeTest && bound.excludeTest(namespace, objLabels, kind, group)) continue;
      if (pod === null) pod = PodView.of(obj);
      if (counts) counts.setUint32(4 * bound.index, counts.getUint32(4 * bound.index, true) + 1, true);
      if (ranks && SEVERITY_RANK[policy.severity] > ranks[index]) ranks[index] = SEVERITY_RANK[policy.severity];
      opts.onPolicy?.(index, policy.id);
      (judge ??= this.judgeOf(r, namespace, operation, opts, nsLabels, findings, exempt))(bound, pod ?? undefined);
    }
  }

  /**
   * The context of one object, shared by every policy that judges it (only `params`, `pod` and the policy behind
   * `report` change), and the function that runs one policy with it. Policies are synchronous, so the context is
   * valid for the duration of a validate call.
   */
  private judgeOf(
    r: Resource,
    namespace: NamespaceInfo,
    operation: Operation,
    opts: RunOptions,
    nsLabels: (name: string) => Record<string, string> | undefined,
    findings: Finding[],
    exempt: Set<Resource>,
  ): Judge {
    const obj = r.object;
    let ref: Finding['resource'] | undefined; // built for the first finding: a compliant object never needs it
    const isSystemNamespace = (name: string | undefined) =>
      this.isSystemNamespace(name, name === undefined ? undefined : name === namespace.name ? namespace.labels : nsLabels(name));
    // `action` is the current policy's actionFor answer for this object (undefined: not asked yet).
    let current: BoundPolicy | undefined;
    let action: Action | 'exempt' | null | undefined;
    const ctx: { -readonly [K in keyof ObjectContext<Params>]: ObjectContext<Params>[K] } = {
      object: obj,
      pod: undefined,
      namespace,
      operation,
      oldObject: opts.oldObject,
      username: opts.username,
      cluster: this,
      params: {},
      isSystemNamespace,
      get: (path) => getAt(obj, typeof path === 'string' ? splitDotted(path) : path),
      query: (jsonPath) => query(obj, jsonPath),
      report: (message: string, path: string | PathSegments = [], o?: ReportOptions) => {
        if (!current) throw new Error('report() was called after the policy returned');
        const { actionFor } = current.policy;
        if (actionFor && action === undefined) action = (actionFor as (c: ObjectContext<Params>) => Action | 'exempt' | null)(ctx);
        if (action === null) return;
        if (action === 'exempt') return void exempt.add(r);
        const f = findingOf(current, r, (ref ??= refOf(obj)), message, typeof path === 'string' ? splitDotted(path) : path);
        if (action && !current.actionOverridden) f.action = action;
        if (o?.action && !current.actionOverridden) f.action = o.action;
        findings.push(f);
      },
    };
    return (bound, pod) => {
      current = bound;
      action = undefined;
      ctx.pod = pod;
      ctx.params = bound.params;
      try {
        (bound.policy.validate as (c: ObjectContext<Params>) => void)(ctx);
      } catch (err) {
        findings.push(errorFindingOf(bound, r, (ref ??= refOf(obj)), err));
      } finally {
        current = undefined;
      }
    };
  }

  private evaluateCluster(
    inventory: Inventory,
    nsLabels: (name: string) => Record<string, string> | undefined,
    findings: Finding[],
    onPolicy: RunOptions['onPolicy'],
  ): void {
    for (const bound of this.clusterPolicies) {
      onPolicy?.(-1, bound.policy.id);
      const ctx: ClusterScopeContext<Params> = {
        inventory,
        cluster: this,
        params: bound.params,
        isSystemNamespace: (name) => this.isSystemNamespace(name, name ? nsLabels(name) : undefined),
        report: (object, message, path = []) => {
          const r = inventory.resourceFor(object) ?? { object };
          findings.push(findingOf(bound, r, refOf(object), message, typeof path === 'string' ? splitDotted(path) : path));
        },
      };
      try {
        (bound.policy.validate as (c: ClusterScopeContext<Params>) => void)(ctx);
      } catch (err) {
        findings.push(errorFindingOf(bound, { object: {} }, { apiVersion: '', kind: '', name: '' }, err));
      }
    }
  }
}

/** The waivers still in force at `now`. An expired one stops applying and is reported once, on the exception itself. */
function unexpired(exceptions: readonly PolicyException[], resources: readonly Resource[], now: Date, findings: Finding[]): PolicyException[] {
  const active: PolicyException[] = [];
  for (const e of exceptions) {
    if (!isExpired(e, now)) {
      active.push(e);
      continue;
    }
    const source = resources.find((r) => r.object === e.object);
    findings.push(
      metaFindingOf(
        source ?? { object: e.object },
        EXCEPTION_EXPIRED,
        `PolicyException "${e.name}" expired on ${e.expiresText} and no longer waives ${e.policies.length === 1 ? 'its policy' : 'its policies'} (reason was: ${e.reason})`,
        ['spec', 'expires'],
      ),
    );
  }
  return active;
}

/** SEVERITY_RANK backwards (index 0: no policy applied). */
const BY_RANK: readonly (Severity | null)[] = [null, 'low', 'medium', 'high', 'critical'];
function rankToSeverity(rank: number): Severity | null {
  return BY_RANK[rank] ?? null;
}
