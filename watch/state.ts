import { dedupeFindings } from '../src/engine/index.js';
import { groupOf, identityOf, refOf, type Finding, type KubeObject, type Policy, type ResourceRef } from '../src/index.js';
import { isExceptionObject, isFleetPolicy, isRolloutObject, type Evaluation } from '../src/engine/index.js';
import { sortFindings } from '../src/report/index.js';
import { diffObject, type DriftEntry } from '../scanner/drift.js';
import { slimForFleet } from '../scanner/fleet-rules.js';
import type { FleetCluster } from '../scanner/fleet.js';
import type { ClusterReport } from '../scanner/scan.js';
import { ObjectTally, round1, SEVERITY_WEIGHT, SYNC_WEIGHT, scoreOf, tallyPolicies, type PolicyTally } from '../scanner/score.js';
import type { ClusterJudge } from './judge.js';
import { Totals } from './totals.js';
import { compact, intern, internChecks, NO_FINDINGS, type Verdict } from './verdicts.js';

export type { Verdict } from './verdicts.js';

/**
 * What the watch keeps of one cluster, and how an event changes it. Not the objects: per object only what its
 * judgement produced (findings, the checks it counted, its drift against the desired state) and its resourceVersion.
 * Whole objects are kept only for the kinds cluster-scope policies read (Namespaces, NetworkPolicies, quotas …) and
 * PolicyExceptions: that small inventory is what the coalesced cluster-scope pass runs on.
 *
 * A change that alters how *other* objects are judged — a PolicyException, or the labels of a Namespace that holds
 * objects — cannot be applied from one object; `apply` answers 'resync' and the source re-reads the cluster.
 */

export interface ObjectEntry {
  /** `group/Kind/`: the prefix of the identity, for a relist of one kind. */
  readonly gk: string;
  readonly ns?: string;
  readonly rv?: string;
  /** Shared between objects judged alike (see Verdict). */
  readonly findings: readonly Verdict[];
  /** The object the findings are about (when it has findings). */
  readonly ref?: ResourceRef;
  readonly checks?: Readonly<Record<string, number>>;
  readonly waived: number;
  /** A desired object that differs live (modified); undefined when in sync or not desired. */
  readonly drift?: DriftEntry;
  /** A live object of an owned kind the repo does not declare: its reference. */
  readonly unmanaged?: ResourceRef;
}

export interface ClusterSetup {
  cluster: FleetCluster;
  judge: ClusterJudge;
  policies: readonly Policy[];
  desired: ReadonlyMap<string, KubeObject>;
  owned: readonly string[];
  keptKinds: ReadonlySet<string>;
  /** Objects the fleet-scope rules read (their declared kinds, Namespaces): a change makes them due. */
  forFleet: (o: KubeObject) => boolean;
  systemNamespaces: readonly string[];
  /** A policy could not judge an object (an error finding): counted as a sync error of the cluster. */
  policyError?: () => void;
}

export type ApplyResult = 'applied' | 'unchanged' | 'resync';

/** A kept verdict as the finding it was. */
const findingOf = (v: Verdict, ref: ResourceRef | undefined): Finding => (v.resource ? (v as Finding) : ({ ...v, resource: ref } as Finding));

/** Objects only the config repo needs to hold (waivers, rollouts): never drift when absent from a cluster. */
const repoOnly = (o: KubeObject) => isExceptionObject(o) || isRolloutObject(o);

export { isExceptionObject };

function ownedMatcher(owned: readonly string[]): (o: KubeObject) => boolean {
  const set = owned.map((k) => {
    const slash = k.lastIndexOf('/');
    return slash < 0 ? { kind: k } : { group: k.slice(0, slash), kind: k.slice(slash + 1) };
  });
  return (o) => set.some((k) => k.kind === o.kind && (k.group === undefined || k.group === groupOf(o.apiVersion)));
}

/** Server bookkeeping no policy reads: dropped from the objects kept whole. */
function slim(o: KubeObject): KubeObject {
  if (!o.metadata?.managedFields) return o;
  const { managedFields: _, ...metadata } = o.metadata as Record<string, unknown>;
  return { ...o, metadata } as KubeObject;
}

/** Findings counted per (policy, severity, action), keyed as the totals are. */
function countFindings(findings: readonly Finding[]): Map<string, { policy: string; severity: string; action: string; n: number }> {
  const counts = new Map<string, { policy: string; severity: string; action: string; n: number }>();
  for (const f of findings) {
    const key = `${f.policy}\0${f.severity}\0${f.action}`;
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { policy: f.policy, severity: f.severity, action: f.action, n: 1 });
  }
  return counts;
}

const sameLabels = (a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean => {
  const ka = Object.keys(a ?? {});
  return ka.length === Object.keys(b ?? {}).length && ka.every((k) => a![k] === b?.[k]);
};

export class ClusterState {
  private entries = new Map<string, ObjectEntry>();
  /** Objects kept whole (cluster-scope kinds, Namespaces, PolicyExceptions), by identity. */
  private kept = new Map<string, KubeObject>();
  private nsLabels = new Map<string, Record<string, string>>();
  /** Objects per namespace (a label change of a namespace holding none needs no resync). */
  private nsCount = new Map<string, number>();
  private clusterEval: Evaluation = { findings: [], waived: 0, objects: 0, exceptions: [], checks: {} };
  /** The cluster-scope tallies of the metrics: they change with the cluster pass and the kept objects only. */
  private clusterTallies?: Record<string, PolicyTally>;
  /** The cluster pass's findings counted per (policy, severity, action): set once per pass. */
  private clusterCounts?: Map<string, { policy: string; severity: string; action: string; n: number }>;
  private totals = new Totals();
  /** Identities of the unmanaged objects. */
  private unmanaged = new Set<string>();
  private readonly isOwned: (o: KubeObject) => boolean;
  private readonly sys: ReadonlySet<string>;
  /** Whether the cluster-scope pass is out of date. */
  clusterPassDue = false;
  /** Whether an object the fleet rules read changed since the flag was last cleared (by the cluster). */
  fleetDue = false;

  constructor(readonly setup: ClusterSetup) {
    this.isOwned = ownedMatcher(setup.owned);
    this.sys = new Set(setup.systemNamespaces);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Kept whole, for the memory figures. */
  /** The objects kept whole (fleet-scope rules read their index from them). */
  keptObjects(): KubeObject[] {
    return [...this.kept.values()];
  }

  get keptCount(): number {
    return this.kept.size;
  }

  /** A fresh, complete state from a full read (initial list, resync, snapshot file change). */
  async replaceAll(objects: readonly KubeObject[], now?: Date): Promise<void> {
    const next = new ClusterState(this.setup);
    for (const o of objects) next.keep(o);
    await next.runClusterPass(now);
    for (const o of objects) next.setEntry(identityOf(o), await next.judgeObject(o, now));
    for (const o of objects) next.count(o, 1);
    this.entries = next.entries;
    this.totals = next.totals;
    this.unmanaged = next.unmanaged;
    this.kept = next.kept;
    this.nsLabels = next.nsLabels;
    this.nsCount = next.nsCount;
    this.clusterEval = next.clusterEval;
    this.driftCache = undefined;
    this.clusterTallies = undefined;
    this.clusterCounts = undefined;
    this.clusterPassDue = false;
  }

  /** One watch event. */
  async apply(type: 'ADDED' | 'MODIFIED' | 'DELETED', o: KubeObject, now?: Date): Promise<ApplyResult> {
    const id = identityOf(o);
    const prev = this.entries.get(id);
    if (isExceptionObject(o)) return 'resync';
    if (o.kind === 'Namespace' && groupOf(o.apiVersion) === '') {
      const name = o.metadata?.name ?? '';
      const before = this.nsLabels.get(name);
      const after = type === 'DELETED' ? undefined : (o.metadata?.labels ?? {});
      const changed = (before === undefined) !== (after === undefined) || !sameLabels(before, after);
      if (changed && (this.nsCount.get(name) ?? 0) > 0) return 'resync';
    }
    if (type === 'DELETED') {
      if (!prev) return 'unchanged';
      this.setEntry(id, undefined);
      this.count(o, -1);
      this.forget(id, o);
      return 'applied';
    }
    const rv = o.metadata?.resourceVersion;
    if (prev && rv !== undefined && prev.rv === rv) return 'unchanged';
    this.keep(o);
    const entry = await this.judgeObject(o, now);
    if (!prev) this.count(o, 1);
    this.setEntry(id, entry);
    return 'applied';
  }

  /** A relist of one kind (after 410 Gone or a malformed event): the informer's Replace. */
  async replaceKind(group: string, kind: string, objects: readonly KubeObject[], now?: Date): Promise<ApplyResult> {
    const gk = `${group}/${kind}/`;
    const seen = new Set<string>();
    let result: ApplyResult = 'unchanged';
    for (const o of objects) {
      seen.add(identityOf(o));
      const r = await this.apply(this.entries.has(identityOf(o)) ? 'MODIFIED' : 'ADDED', o, now);
      if (r === 'resync') return r;
      if (r === 'applied') result = r;
    }
    for (const [id, e] of [...this.entries]) {
      if (e.gk !== gk || seen.has(id)) continue;
      const ref = this.kept.get(id) ?? stubOf(id);
      const r = await this.apply('DELETED', ref, now);
      if (r === 'resync') return r;
      result = 'applied';
    }
    return result;
  }

  /** Cluster-scope policies over the kept inventory, plus the repo's waivers that are not applied live (as scan does). */
  async runClusterPass(now?: Date): Promise<void> {
    const objects = [...this.kept.values()];
    const liveExceptions = new Set<string>();
    for (const o of objects) if (isExceptionObject(o)) liveExceptions.add(`${o.metadata?.namespace}/${o.metadata?.name}`);
    for (const o of this.setup.desired.values()) if (isExceptionObject(o) && !liveExceptions.has(`${o.metadata?.namespace}/${o.metadata?.name}`)) objects.push(o);
    this.clusterEval = await this.setup.judge.cluster(objects, now);
    this.clusterTallies = undefined;
    this.clusterCounts = undefined;
    this.clusterPassDue = false;
  }

  /** When the first waiver in force stops applying (ms since the epoch), if one does. */
  nextExpiry(): number | undefined {
    let next: number | undefined;
    for (const e of this.clusterEval.exceptions) next = Math.min(next ?? Infinity, e.expires.getTime());
    return next;
  }

  private setEntry(id: string, e: ObjectEntry | undefined): void {
    const prev = this.entries.get(id);
    // the drift changes only with a desired object's entry or an unmanaged one
    if (prev?.unmanaged || e?.unmanaged || this.setup.desired.has(id)) this.driftCache = undefined;
    if (prev) this.totals.account(prev, -1);
    if (!e) {
      this.entries.delete(id);
      this.unmanaged.delete(id);
      return;
    }
    this.entries.set(id, e);
    this.totals.account(e, 1);
    if (e.unmanaged) this.unmanaged.add(id);
    else this.unmanaged.delete(id);
  }

  /** Per policy: checks and failed checks, in policy order, as scan's tallyPolicies gives them. */
  private tallies(objects?: ObjectTally): Record<string, PolicyTally> {
    // with `objects` (a report) the pass also judges each kept object for the object score: not cached
    const cluster = objects || !this.clusterTallies ? tallyPolicies(this.setup.policies, this.setup.judge.engine, { ...this.clusterEval, checks: {} }, [...this.kept.values()], objects) : this.clusterTallies;
    if (!objects) this.clusterTallies = cluster;
    const out: Record<string, PolicyTally> = {};
    for (const p of this.setup.policies) {
      const t = p.scope === 'cluster' ? cluster[p.id] : this.totals.objectTally(p);
      if (t) out[p.id] = t;
    }
    return out;
  }

  /**
   * Drift in scan's order: desired objects (missing, modified), then unmanaged ones. Kept until an entry it reads
   * changes (most events are of objects the repo does not declare): the same arrays are handed out until then,
   * never changed in place.
   */
  private driftCache?: { entries: DriftEntry[]; desired: number; inSync: number; unmanaged: number };
  private drift(): { entries: DriftEntry[]; desired: number; inSync: number; unmanaged: number } {
    return (this.driftCache ??= this.driftNow());
  }

  private driftNow(): { entries: DriftEntry[]; desired: number; inSync: number; unmanaged: number } {
    const entries: DriftEntry[] = [];
    let inSync = 0;
    const ids = this.desiredIds();
    for (let i = 0; i < ids.length; i++) {
      const e = this.entries.get(ids[i]);
      if (!e) entries.push({ resource: refOf(this.setup.desired.get(ids[i])!), state: 'missing', diffs: [] });
      else if (e.drift) entries.push(e.drift);
      else inSync++;
    }
    for (const id of this.unmanaged) entries.push({ resource: this.entries.get(id)!.unmanaged!, state: 'unmanaged', diffs: [] });
    return { entries, desired: ids.length, inSync, unmanaged: this.unmanaged.size };
  }

  /** The desired objects that can drift (not the repo-only ones), in the desired state's order: set once per state. */
  private desiredIdList?: string[];
  private desiredIds(): string[] {
    return (this.desiredIdList ??= [...this.setup.desired].filter(([, want]) => !repoOnly(want)).map(([id]) => id));
  }

  /** What the metrics need, without collecting or sorting findings (a busy cluster is summed, not rebuilt). */
  summary(fleet?: { findings: readonly Finding[]; tallies: Readonly<Record<string, PolicyTally>> }): { score: number; drift: DriftEntry[]; findings: Iterable<{ policy: string; severity: string; action: string; n: number }> } {
    const d = this.drift();
    // a copy of each count, in the order they came: the view keeps them as they are now (the metrics render it once)
    const cluster = (this.clusterCounts ??= countFindings(this.clusterEval.findings));
    const fromFleet = fleet?.findings.length ? countFindings(fleet.findings) : undefined;
    const counts: { policy: string; severity: string; action: string; n: number }[] = [];
    type Counts = ReadonlyMap<string, { n: number }> | undefined;
    const plus = (key: string, c: { policy: string; severity: string; action: string; n: number }, a?: Counts, b?: Counts) =>
      counts.push({ policy: c.policy, severity: c.severity, action: c.action, n: c.n + (a?.get(key)?.n ?? 0) + (b?.get(key)?.n ?? 0) });
    for (const [key, c] of this.totals.findings) plus(key, c, cluster, fromFleet);
    for (const [key, c] of cluster) if (!this.totals.findings.has(key)) plus(key, c, fromFleet);
    if (fromFleet) for (const [key, c] of fromFleet) if (!this.totals.findings.has(key) && !cluster.has(key)) plus(key, c);
    return { score: this.score(d, fleet?.tallies), drift: d.entries, findings: counts.values() };
  }

  /**
   * scoreOf(drift, { ...tallies(), ...fleet }) without building the tallies: the same sums of integer weights (the
   * cluster-scope tallies cached between changes of the kept objects or the pass, the others from the totals).
   */
  private score(d: { desired: number; inSync: number; unmanaged: number }, fleet?: Readonly<Record<string, PolicyTally>>): number {
    let total = (d.desired + d.unmanaged) * SYNC_WEIGHT;
    let passed = d.inSync * SYNC_WEIGHT;
    const add = (severity: PolicyTally['severity'], checks: number, failed: number) => {
      total += checks * SEVERITY_WEIGHT[severity];
      passed += (checks - failed) * SEVERITY_WEIGHT[severity];
    };
    const cluster = (this.clusterTallies ??= tallyPolicies(this.setup.policies, this.setup.judge.engine, { ...this.clusterEval, checks: {} }, [...this.kept.values()]));
    for (const p of this.setup.policies) {
      if (fleet && Object.hasOwn(fleet, p.id)) continue;
      if (p.scope === 'cluster') {
        const t = cluster[p.id];
        if (t) add(t.severity, t.checks, t.failed);
        continue;
      }
      const checks = this.totals.checks.get(p.id) ?? 0;
      if (checks) add(p.severity, checks, Math.min(this.totals.failing.get(p.id) ?? 0, checks));
    }
    if (fleet) for (const id in fleet) add(fleet[id].severity, fleet[id].checks, fleet[id].failed);
    return total === 0 ? 100 : round1((passed / total) * 100);
  }

  /** The cluster's report, in the shape and with the numbers `scan` gives for the same state. */
  report(base: Pick<ClusterReport, 'name' | 'index' | 'labels' | 'layers' | 'warnings'>): ClusterReport {
    const findings: Finding[] = [...this.clusterEval.findings];
    for (const e of this.entries.values()) for (const v of e.findings) findings.push(findingOf(v, e.ref));
    const objects = new ObjectTally();
    const tallies = this.tallies(objects);
    const d = this.drift();
    const parts = scoreOf(d, tallies);
    const objectParts = this.objectParts(objects, findings, d.entries);
    return {
      ...base,
      status: 'ok',
      score: parts.score,
      ...objectParts,
      ...(this.setup.policies.some(isFleetPolicy) ? { fleetIndexVerdicts: objects.verdictsOf(this.kept.keys()) } : {}),
      desired: d.desired,
      inSync: d.inSync,
      objects: this.entries.size,
      totalWeight: parts.totalWeight,
      passedWeight: parts.passedWeight,
      drift: d.entries,
      findings: sortFindings(findings),
      policies: tallies,
      waived: this.totals.waived + this.clusterEval.waived,
    };
  }

  /** scan's objectScore from what the watch keeps: each entry's checks name the policies that judged it. */
  private objectParts(objects: ObjectTally, findings: readonly Finding[], drift: readonly DriftEntry[]) {
    const byId = new Map(this.setup.policies.map((p) => [p.id, p]));
    for (const [id, e] of this.entries) {
      let weight = 0;
      if (e.checks)
        for (const k in e.checks) {
          const p = byId.get(k);
          if (p) weight = Math.max(weight, SEVERITY_WEIGHT[p.severity]);
        }
      if (weight) objects.judge(id, weight);
    }
    objects.judgeFindings(findings, byId);
    objects.judgeSync(this.desiredIds(), drift);
    return objects.parts();
  }

  /**
   * Objects kept whole: the kinds cluster-scope policies read and PolicyExceptions (as they are, without server
   * bookkeeping), and the objects fleet rules read (without status either: those rules never read it).
   */
  private keep(o: KubeObject): void {
    const kind = typeof o.kind === 'string' ? o.kind : '';
    const id = identityOf(o);
    const prev = this.kept.get(id);
    const forCluster = this.setup.keptKinds.has(kind) || isExceptionObject(o);
    const forFleet = this.setup.forFleet(o);
    if (forFleet || (prev && this.setup.forFleet(prev))) this.fleetDue = true;
    if (!forCluster && !forFleet) {
      if (prev && this.kept.delete(id)) this.clusterTallies = undefined; // no longer read by any rule (a label the fleet rules select went)
      return;
    }
    this.kept.set(id, forCluster ? slim(o) : slimForFleet(o));
    this.clusterTallies = undefined;
    if (kind === 'Namespace' && groupOf(o.apiVersion) === '') this.nsLabels.set(o.metadata?.name ?? '', o.metadata?.labels ?? {});
    if (forCluster) this.clusterPassDue = true;
  }

  private forget(id: string, o: KubeObject): void {
    const prev = this.kept.get(id);
    if (!prev || !this.kept.delete(id)) return;
    this.clusterTallies = undefined;
    if (this.setup.forFleet(prev)) this.fleetDue = true;
    if (o.kind === 'Namespace' && groupOf(o.apiVersion) === '') this.nsLabels.delete(o.metadata?.name ?? '');
    if (this.setup.keptKinds.has(o.kind ?? '') || isExceptionObject(o)) this.clusterPassDue = true;
  }

  private count(o: KubeObject, delta: number): void {
    const ns = o.kind === 'Namespace' ? undefined : o.metadata?.namespace;
    if (!ns) return;
    const n = (this.nsCount.get(ns) ?? 0) + delta;
    if (n > 0) this.nsCount.set(ns, n);
    else this.nsCount.delete(ns);
  }

  private async judgeObject(o: KubeObject, now?: Date): Promise<ObjectEntry> {
    const id = identityOf(o);
    const gk = intern(`${groupOf(o.apiVersion)}/${o.kind ?? ''}/`);
    const ns = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : undefined;
    const rv = typeof o.metadata?.resourceVersion === 'string' ? o.metadata.resourceVersion : undefined;
    const want = this.setup.desired.get(id);
    if (isExceptionObject(o)) return { gk, ns, rv, findings: NO_FINDINGS, waived: 0 };
    const evaluation = await this.setup.judge.object(o, {
      namespaceLabels: (name) => this.nsLabels.get(name),
      exceptions: this.clusterEval.exceptions,
      now,
    });
    if (evaluation.findings.some((f) => f.error)) this.setup.policyError?.();
    let drift: DriftEntry | undefined;
    if (want && !repoOnly(want)) {
      const diffs = diffObject(want, o);
      if (diffs.length) drift = { resource: refOf(want), state: 'modified', diffs };
    }
    let unmanaged: ResourceRef | undefined;
    if (!want && this.isOwned(o)) {
      const nsName = o.kind === 'Namespace' ? o.metadata?.name : ns;
      const ownedByOther = Array.isArray(o.metadata?.ownerReferences) && o.metadata.ownerReferences.length > 0;
      if (!(typeof nsName === 'string' && this.sys.has(nsName)) && !ownedByOther) unmanaged = refOf(o);
    }
    return {
      gk,
      ns,
      rv,
      // One finding per offending field, as scan reports it (engine/dedupe.ts; the key includes the object).
      ...compact(dedupeFindings(evaluation.findings, this.setup.policies)),
      checks: internChecks(evaluation.checks),
      waived: evaluation.waived,
      drift,
      unmanaged,
    };
  }
}

/** `group/Kind/ns/name` back to an object stub (enough for identity and a DELETED). */
function stubOf(id: string): KubeObject {
  const [group, kind, ns, ...rest] = id.split('/');
  return { apiVersion: group ? `${group}/v1` : 'v1', kind, metadata: { name: rest.join('/'), ...(ns ? { namespace: ns } : {}) } };
}
