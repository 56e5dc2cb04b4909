import { toJsonPath, matchesSelector, splitDotted, type FleetClusterView, type FleetInventoryView, type Policy } from '../authoring/index.js';
import { groupOf, refOf, type Action, type Finding, type KubeObject, type PathSegments, type SourceLocation } from '../model/index.js';
import { resolveAction, resolveParams } from './context.js';

/**
 * Evaluation of fleet-scope policies: every cluster's labels and a small index of the objects those policies declare
 * (not every object: a ServiceEntry rule keeps ServiceEntries and Services, so memory grows with what rules need).
 */

/** One cluster as the fleet rules see it; `objects` need only hold the kinds fleet policies declare (see keepForFleet). */
export interface FleetClusterInput {
  name: string;
  labels: Record<string, string>;
  status: 'ok' | 'unreachable' | 'error';
  error?: string;
  layers?: string[];
  actions?: Record<string, { action: Action; from: string }>;
  objects: readonly KubeObject[];
}

export interface FleetFinding extends Finding {
  /** The cluster that holds the offending resource. */
  cluster: string;
}

export interface FleetRuleResult {
  policy: string;
  findings: number;
  /** Clusters the rule could not judge something about (they could not be read): never a pass. */
  unknown: { cluster: string; reason: string }[];
  /** The rule itself failed (it threw); its findings are then incomplete. */
  error?: string;
}

export interface FleetEvaluation {
  findings: FleetFinding[];
  rules: FleetRuleResult[];
  /** Per policy, per cluster: objects of the policy's kinds the rule judged there (the checks a score weighs). */
  checks: Record<string, Record<string, number>>;
}

/** Where a finding's field is in the files it came from (`lint --fleet`: the config repo's manifests). */
export type FleetLocate = (cluster: string, object: KubeObject, path: PathSegments) => SourceLocation | undefined;

export function isFleetPolicy(p: Policy): boolean {
  return p.scope === 'fleet';
}

/** `Kind` and `group/Kind` of an object; one array per apiVersion and kind (an index holds ~100k objects). */
const KIND_KEYS = new Map<string, readonly string[]>();
function kindKeys(o: KubeObject): readonly string[] {
  const kind = String(o.kind ?? '');
  const apiVersion = String(o.apiVersion ?? '');
  const id = `${apiVersion}\u0000${kind}`;
  let keys = KIND_KEYS.get(id);
  if (!keys) {
    const group = groupOf(apiVersion);
    keys = Object.freeze(group ? [kind, `${group}/${kind}`] : [kind]);
    if (KIND_KEYS.size > 10_000) KIND_KEYS.clear();
    KIND_KEYS.set(id, keys);
  }
  return keys;
}

/** Whether a fleet policy applies to an object (its kinds and labels): what its checks count. */
export function wants(policy: Policy, o: KubeObject): boolean {
  const keys = kindKeys(o);
  if (!policy.match.kinds.some((k) => keys.includes(k))) return false;
  return !policy.match.labels || matchesSelector((o.metadata?.labels ?? {}) as Record<string, string>, policy.match.labels);
}

/**
 * Whether a cluster's object is needed by any fleet policy: the scanner keeps only those after a cluster is judged.
 * Namespaces are always kept (rules read their labels, e.g. the data classification).
 */
export function keepForFleet(policies: readonly Policy[]): (o: KubeObject) => boolean {
  const fleet = policies.filter(isFleetPolicy);
  if (!fleet.length) return () => false;
  return (o) => o.kind === 'Namespace' || fleet.some((p) => wants(p, o));
}

/** What a fleet policy reads of `o`: the fields its `reads` lists for the object's kind, or `undefined` for all. */
function readsOf(policy: Policy, o: KubeObject): readonly string[] | undefined {
  if (!policy.reads) return undefined;
  for (const k of kindKeys(o)) if (policy.reads[k]) return policy.reads[k];
  return undefined;
}

/** `o` with only identity, labels and `fields` (dotted paths); the values are shared with `o`, not copied. */
function project(o: KubeObject, fields: ReadonlySet<string>): KubeObject {
  const meta = (o.metadata ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: meta.name, ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}), ...(meta.labels ? { labels: meta.labels } : {}) } };
  for (const field of fields) {
    const path = field.split('.');
    let from: unknown = o;
    for (const seg of path) from = from && typeof from === 'object' ? (from as Record<string, unknown>)[seg] : undefined;
    if (from === undefined) continue;
    let into = out;
    for (const seg of path.slice(0, -1)) into = (into[seg] && typeof into[seg] === 'object' ? into[seg] : (into[seg] = { ...((into[seg] as object) ?? {}) })) as Record<string, unknown>;
    into[path[path.length - 1]] = from;
  }
  return out as KubeObject;
}

/**
 * The part of a cluster's object that fleet policies need, or `undefined` when none needs it: the union of what the
 * policies matching it read (`reads`; the whole object when one of them does not say). Namespaces are always kept,
 * by identity and labels (rules read their labels, e.g. the data classification).
 */
export function fleetProjection(policies: readonly Policy[]): (o: KubeObject) => KubeObject | undefined {
  const fleet = policies.filter(isFleetPolicy);
  if (!fleet.length) return () => undefined;
  return (o) => {
    const fields = new Set<string>();
    let matched = o.kind === 'Namespace';
    for (const p of fleet) {
      if (!wants(p, o)) continue;
      matched = true;
      const reads = readsOf(p, o);
      if (!reads) return o;
      for (const f of reads) fields.add(f);
    }
    return matched ? project(o, fields) : undefined;
  };
}

class Index implements FleetInventoryView {
  // By kind only: a lookup by name scans the kind's objects of one cluster (a few dozen), which costs less than a
  // key per object for every cluster of a 10,000-cluster fleet.
  private readonly byKind = new Map<string, KubeObject[]>();
  /** Per policy: how many of these objects it judges (the checks a score weighs). */
  private readonly checks = new WeakMap<Policy, number>();

  constructor(readonly objects: readonly KubeObject[]) {
    for (const o of objects) for (const k of kindKeys(o)) (this.byKind.get(k) ?? this.byKind.set(k, []).get(k)!).push(o);
  }

  list(kind: string, namespace?: string): readonly KubeObject[] {
    const all = this.byKind.get(kind) ?? [];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    // the last one, as a map keyed by name would have kept
    const all = this.byKind.get(kind) ?? [];
    for (let i = all.length - 1; i >= 0; i--) {
      const o = all[i];
      if ((o.metadata?.namespace ?? '') === (namespace ?? '') && (o.metadata?.name ?? '') === name) return o;
    }
    return undefined;
  }

  withLabel(kind: string, key: string, value?: string): readonly KubeObject[] {
    return this.list(kind).filter((o) => {
      const v = (o.metadata?.labels as Record<string, string> | undefined)?.[key];
      return v !== undefined && (value === undefined || v === value);
    });
  }

  namespaceLabels(name: string): Readonly<Record<string, string>> | undefined {
    return this.get('Namespace', undefined, name)?.metadata?.labels as Record<string, string> | undefined;
  }

  checksOf(policy: Policy): number {
    let n = this.checks.get(policy);
    if (n === undefined) this.checks.set(policy, (n = this.objects.filter((o) => wants(policy, o)).length));
    return n;
  }
}

/**
 * Indexes of the objects arrays already judged, so that judging the fleet again after one cluster changed (the
 * watch) indexes only that cluster: callers hand a new array when a cluster's objects change, never a mutated one.
 */
const INDEXES = new WeakMap<readonly KubeObject[], Index>();
const NONE: readonly KubeObject[] = Object.freeze([]);

function indexOf(objects: readonly KubeObject[]): Index {
  let index = INDEXES.get(objects);
  if (!index || index.objects.length !== objects.length) {
    // Objects are shared with the caller's index: frozen, so one rule cannot change what the next one sees.
    index = new Index(objects.map(deepFreeze));
    INDEXES.set(objects, index);
  }
  return index;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/**
 * `v` itself when it is already deeply frozen (the scanner's fleet store hands members whose labels, layers and
 * actions are frozen and shared between clusters: no copy per cluster), else a frozen copy, so the caller's own
 * value is never frozen.
 */
function frozen<T extends object>(v: T | undefined, copy: () => T): Readonly<T> {
  return v !== undefined && deeplyFrozen(v) ? v : Object.freeze(copy());
}

function deeplyFrozen(v: unknown): boolean {
  if (!v || typeof v !== 'object') return true;
  return Object.isFrozen(v) && Object.values(v).every(deeplyFrozen);
}

/** What a fleet policy sees of one member: frozen, its objects indexed on first use (an unreachable cluster's are none). */
function viewOf(m: FleetClusterInput): FleetClusterView {
  const view = {
    name: m.name,
    labels: frozen(m.labels, () => ({ ...m.labels })),
    status: m.status,
    ...(m.error ? { error: m.error } : {}),
    layers: frozen(m.layers, () => [...(m.layers ?? [])]),
    actions: frozen(m.actions, () => ({ ...(m.actions ?? {}) })),
  };
  // A cluster's inventory is indexed when a rule first asks for it: `objects` may be read from disk on demand
  // (the scanner's fleet store), so views do not hold every cluster's objects at once.
  return Object.freeze(Object.defineProperty(view, 'inventory', { enumerable: true, get: () => indexOf(m.status === 'ok' ? m.objects : NONE) }) as FleetClusterView);
}

interface FleetOptions {
  parameters?: Record<string, unknown>;
  actions?: Record<string, Action>;
  locate?: FleetLocate;
}

/** Runs one fleet policy over the views; its findings go to `findings`, its rule result is returned. */
function runFleetPolicy(
  policy: Policy,
  views: readonly FleetClusterView[],
  byName: ReadonlyMap<string, FleetClusterView>,
  memberOf: ReadonlyMap<string, FleetClusterInput>,
  opts: FleetOptions,
  findings: FleetFinding[],
): FleetRuleResult {
  const rule: FleetRuleResult = { policy: policy.id, findings: 0, unknown: [] };
  const seenUnknown = new Set<string>();
  const params = resolveParams(policy, opts.parameters);
  const report = (cluster: string, object: KubeObject, message: string, path?: string | PathSegments) => {
    const segments = path === undefined ? [] : typeof path === 'string' ? splitDotted(path) : path;
    const own = memberOf.get(cluster)?.actions?.[policy.id]?.action;
    const source = opts.locate?.(cluster, object, segments);
    findings.push({
      policy: policy.id,
      severity: policy.severity,
      action: own ?? resolveAction(policy, opts.actions),
      message,
      resource: refOf(object),
      path: toJsonPath(segments),
      ...(source ? { source } : {}),
      cluster,
    });
    rule.findings++;
  };
  const unknown = (cluster: string, reason: string) => {
    if (seenUnknown.has(cluster)) return;
    seenUnknown.add(cluster);
    rule.unknown.push({ cluster, reason });
  };
  try {
    (policy.validate as (ctx: unknown) => void)({ clusters: views, cluster: (n: string) => byName.get(n), params: Object.freeze(params), report, unknown });
  } catch (err) {
    rule.error = `policy error: ${err instanceof Error ? err.message : String(err)}`;
  }
  return rule;
}

/** Runs every fleet-scope policy once over the fleet. `parameters`/`actions` are the fleet-wide ones of fleet.yaml. */
export function evaluateFleet(policies: readonly Policy[], members: readonly FleetClusterInput[], opts: FleetOptions = {}): FleetEvaluation {
  const views: FleetClusterView[] = members.map(viewOf);
  const byName = new Map(views.map((v) => [v.name, v]));
  const memberOf = new Map(members.map((m) => [m.name, m]));
  const findings: FleetFinding[] = [];
  const rules: FleetRuleResult[] = [];
  const checks: Record<string, Record<string, number>> = {};
  for (const policy of policies.filter(isFleetPolicy)) {
    const rule = runFleetPolicy(policy, views, byName, memberOf, opts, findings);
    checks[policy.id] = {};
    rules.push(rule);
  }
  // Checks per cluster in one pass over the members (each cluster's objects read once, not once per policy).
  const fleetPolicies = policies.filter(isFleetPolicy);
  for (const m of members) {
    const index = indexOf(m.objects);
    for (const policy of fleetPolicies) {
      const n = index.checksOf(policy);
      if (n) checks[policy.id][m.name] = n;
    }
  }
  return { findings, rules, checks };
}
