import { toJsonPath, matchesSelector, splitDotted, type FleetClusterView, type FleetInventoryView, type Policy } from '../authoring/index.js';
import { groupOf, refOf, type Action, type Finding, type KubeObject, type PathSegments } from '../model/index.js';
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

export function isFleetPolicy(p: Policy): boolean {
  return p.scope === 'fleet';
}

function kindKeys(o: KubeObject): string[] {
  const kind = String(o.kind ?? '');
  const group = groupOf(String(o.apiVersion ?? ''));
  return group ? [kind, `${group}/${kind}`] : [kind];
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

class Index implements FleetInventoryView {
  private readonly byKind = new Map<string, KubeObject[]>();
  private readonly byName = new Map<string, KubeObject>();

  constructor(objects: readonly KubeObject[]) {
    for (const o of objects) {
      for (const k of kindKeys(o)) {
        (this.byKind.get(k) ?? this.byKind.set(k, []).get(k)!).push(o);
        this.byName.set(`${k}\u0000${o.metadata?.namespace ?? ''}\u0000${o.metadata?.name ?? ''}`, o);
      }
    }
  }

  list(kind: string, namespace?: string): readonly KubeObject[] {
    const all = this.byKind.get(kind) ?? [];
    return namespace === undefined ? all : all.filter((o) => o.metadata?.namespace === namespace);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.byName.get(`${kind}\u0000${namespace ?? ''}\u0000${name}`);
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
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o)) deepFreeze(v);
  }
  return o;
}

/** Runs every fleet-scope policy once over the fleet. `parameters`/`actions` are the fleet-wide ones of fleet.yaml. */
export function evaluateFleet(
  policies: readonly Policy[],
  members: readonly FleetClusterInput[],
  opts: { parameters?: Record<string, unknown>; actions?: Record<string, Action> } = {},
): FleetEvaluation {
  const views: FleetClusterView[] = members.map((m) =>
    Object.freeze({
      name: m.name,
      labels: Object.freeze({ ...m.labels }),
      status: m.status,
      ...(m.error ? { error: m.error } : {}),
      layers: Object.freeze([...(m.layers ?? [])]),
      actions: Object.freeze({ ...(m.actions ?? {}) }),
      // Objects are shared with the caller's index: frozen, so one rule cannot change what the next one sees.
      inventory: new Index(m.status === 'ok' ? m.objects.map(deepFreeze) : []),
    }),
  );
  const byName = new Map(views.map((v) => [v.name, v]));
  const memberOf = new Map(members.map((m) => [m.name, m]));
  const findings: FleetFinding[] = [];
  const rules: FleetRuleResult[] = [];
  const checks: Record<string, Record<string, number>> = {};
  for (const policy of policies.filter(isFleetPolicy)) {
    const rule: FleetRuleResult = { policy: policy.id, findings: 0, unknown: [] };
    const seenUnknown = new Set<string>();
    const params = resolveParams(policy, opts.parameters);
    const report = (cluster: string, object: KubeObject, message: string, path?: string | PathSegments) => {
      const segments = path === undefined ? [] : typeof path === 'string' ? splitDotted(path) : path;
      const own = memberOf.get(cluster)?.actions?.[policy.id]?.action;
      findings.push({
        policy: policy.id,
        severity: policy.severity,
        action: own ?? resolveAction(policy, opts.actions),
        message,
        resource: refOf(object),
        path: toJsonPath(segments),
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
    const perCluster: Record<string, number> = {};
    for (const v of views) {
      const n = (memberOf.get(v.name)?.objects ?? []).filter((o) => wants(policy, o)).length;
      if (n) perCluster[v.name] = n;
    }
    checks[policy.id] = perCluster;
    rules.push(rule);
  }
  return { findings, rules, checks };
}
