import { DEFAULT_SYSTEM_NAMESPACES, identityOf, type KubeObject } from '../src/index.js';
import type { Fleet, FleetCluster } from '../scanner/fleet.js';
import { clusterContextOf, redactSecrets, type ClusterReport, type ClusterStatus } from '../scanner/scan.js';
import { fleetActionsOf } from '../scanner/fleet-rules.js';
import { keepForFleet, rolloutsAmong, type FleetClusterInput } from '../src/engine/index.js';
import type { FleetMember, FleetPart } from './fleet-rules.js';
import type { Judge } from './judge.js';
import type { SyncReason } from './kube.js';
import { ClusterState, type ApplyResult } from './state.js';
import type { WatchEventType } from './stream.js';
import type { DriftEntry } from '../scanner/drift.js';

/** A cluster as the metrics show it. */
export interface ClusterView {
  up: boolean;
  score: number | null;
  drift: { missing: number; modified: number; unmanaged: number };
  findings: { policy: string; severity: string; action: string; n: number }[];
}

/**
 * One cluster under watch: its state, its health, and the order things happen in. Every change goes through one
 * queue per cluster (events, relists, the cluster-scope pass), so a judgement never sees half of another; clusters
 * are independent, so a slow one delays nobody else. Sources (live, snapshot) call in; metrics and the report read out.
 */

export interface Source {
  start(): void;
  /** Re-read the whole cluster (a change that alters how other objects are judged, or a new desired state). */
  resync(): void;
  stop(): Promise<void>;
}

export interface ClusterHooks {
  /** An event (or a re-read) is reflected in the report and metrics, `seconds` after it arrived. */
  detected(seconds: number): void;
  syncError(cluster: string, reason: SyncReason): void;
  event(cluster: string): void;
}

/** Longest a timer can wait (setTimeout's limit); a later expiry re-arms. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** The cluster-scope pass runs at most once per this many ms per cluster. */
export const CLUSTER_PASS_INTERVAL_MS = 1000;
/** A busy cluster's report (and metrics) are rebuilt at most once per this many ms. */
export const REFRESH_INTERVAL_MS = 100;

export class WatchedCluster implements FleetMember {
  source?: Source;
  /** Told when something the fleet-scope rules read changed here (FleetWatch hands it to its FleetRules). */
  fleetListener?: (arrived?: number) => void;
  /** This cluster's share of the last fleet-rules run. */
  private fleetPart?: FleetPart;
  /** The objects the fleet rules read, from the kept ones; rebuilt after they change. */
  private fleetIndex?: KubeObject[];
  private readonly forFleet: (o: KubeObject) => boolean;
  private state?: ClusterState;
  private queue: Promise<unknown> = Promise.resolve();
  /** ok: synced and watching; down: the last attempt failed (reason below); pending: not synced yet. */
  health: 'pending' | 'ok' | 'down' = 'pending';
  private failure?: { status: ClusterStatus; message: string };
  /** The desired state does not render for this cluster's layers: reported as an error until it does. */
  private desiredError?: string;
  /** Synced once or failed once (readiness). */
  settled = false;
  warnings: string[] = [];
  private cached?: ClusterReport;
  /** Fleet policies' actions here, for the fleet-scope rules (as scan gives them). */
  private fleetActions: ClusterReport['fleetActions'] = {};
  private pending: number[] = [];
  private refreshTimer?: NodeJS.Timeout;
  private lastRefresh = 0;
  /** What metrics read: rebuilt at most every REFRESH_INTERVAL_MS (a scrape never rebuilds a busy cluster). */
  private viewCache?: ClusterView;
  private lastView?: ClusterView;
  private passTimer?: NodeJS.Timeout;
  private lastPass = 0;
  /** identity+state → when this drift was first seen (age of the oldest unreconciled drift). */
  private driftSince = new Map<string, number>();
  private trackedDrift?: readonly DriftEntry[];
  private stopped = false;
  /** Fires when the next waiver in force expires: what it waived comes back without any event. */
  private expiryTimer?: NodeJS.Timeout;

  constructor(
    readonly cluster: FleetCluster,
    private readonly fleet: Fleet,
    private readonly judge: Judge,
    private desired: ReadonlyMap<string, KubeObject>,
    private layers: string[],
    private readonly keptKinds: ReadonlySet<string>,
    private readonly hooks: ClusterHooks,
  ) {
    this.forFleet = keepForFleet(judge.policies);
  }

  get hasDesiredError(): boolean {
    return this.desiredError !== undefined;
  }

  get name(): string {
    return this.cluster.name;
  }

  /** Objects tracked and objects kept whole (for the memory figures). */
  get sizes(): { objects: number; kept: number } {
    return { objects: this.state?.size ?? 0, kept: this.state?.keptCount ?? 0 };
  }

  private newState(): ClusterState {
    // PolicyRollouts of the desired state set the effective actions, as in scan
    const { rollouts } = rolloutsAmong(this.desired.values());
    const ctx = clusterContextOf(this.fleet, this.cluster, {}, { rollouts, policies: this.judge.policies });
    this.fleetActions = fleetActionsOf(this.judge.policies, ctx, this.cluster.actions);
    const sys = ctx.parameters?.systemNamespaces;
    return new ClusterState({
      cluster: this.cluster,
      judge: this.judge.forCluster(ctx),
      policies: this.judge.policies,
      desired: this.desired,
      owned: this.fleet.owned,
      keptKinds: this.keptKinds,
      forFleet: this.forFleet,
      systemNamespaces: Array.isArray(sys) ? (sys as string[]) : DEFAULT_SYSTEM_NAMESPACES,
      policyError: () => this.hooks.syncError(this.name, 'policy-error'),
    });
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.queue.then(fn);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** A complete read of the cluster: replaces everything known about it. */
  replaceAll(objects: readonly KubeObject[], warnings: string[]): Promise<void> {
    const arrived = performance.now();
    return this.enqueue(async () => {
      const state = this.state ?? this.newState();
      await state.replaceAll(objects);
      this.state = state;
      this.armExpiry();
      this.warnings = warnings.map(redactSecrets);
      this.lastPass = performance.now();
      this.markUp();
      this.changed(arrived);
    });
  }

  /** A watch event. A 'resync' answer makes the source re-read the cluster. */
  event(type: WatchEventType, object: KubeObject): Promise<ApplyResult | undefined> {
    const arrived = performance.now();
    this.hooks.event(this.name);
    return this.enqueue(async () => {
      if (!this.state) return undefined;
      const r = await this.state.apply(type, object);
      this.after(r, arrived);
      return r;
    });
  }

  /** A relist of one kind. */
  replaceKind(group: string, kind: string, objects: readonly KubeObject[]): Promise<ApplyResult | undefined> {
    const arrived = performance.now();
    return this.enqueue(async () => {
      if (!this.state) return undefined;
      const r = await this.state.replaceKind(group, kind, objects);
      this.after(r, arrived);
      return r;
    });
  }

  private after(r: ApplyResult, arrived: number): void {
    if (r === 'resync') this.source?.resync();
    else if (r === 'applied') this.changed(arrived);
  }

  /** The cluster's source is synced and watching. */
  markUp(): void {
    const was = this.health;
    this.health = 'ok';
    this.failure = undefined;
    this.settled = true;
    this.cached = undefined;
    this.viewCache = undefined;
    if (was !== 'ok') this.fleetChanged();
  }

  /** The source could not read or watch the cluster: up 0, the reason in the report and the metric. */
  failed(reason: SyncReason, message: string, status: ClusterStatus = reason === 'unreachable' || reason === 'timeout' ? 'unreachable' : 'error'): void {
    this.hooks.syncError(this.name, reason);
    this.health = 'down';
    this.failure = { status, message: redactSecrets(message) };
    this.settled = true;
    this.cached = undefined;
    this.viewCache = undefined;
    this.fleetChanged();
  }

  /** Something went wrong that did not stop the watch (a malformed event, a dropped stream): counted only. */
  problem(reason: SyncReason): void {
    this.hooks.syncError(this.name, reason);
  }

  /** A new desired state for this cluster (the config repo changed): re-judge the whole cluster against it. */
  setDesired(desired: ReadonlyMap<string, KubeObject>, layers: string[], error?: string): void {
    const wasBroken = this.desiredError !== undefined;
    this.desiredError = error === undefined ? undefined : redactSecrets(error);
    if (error !== undefined) {
      this.hooks.syncError(this.name, 'desired-render');
      this.cached = undefined;
      this.viewCache = undefined;
      this.fleetChanged();
      return; // keep judging against the last desired state that rendered; the report says it is broken
    }
    if (desired === this.desired && !wasBroken) return;
    this.desired = desired;
    this.layers = layers;
    this.state = undefined; // the next full read builds a state against the new desired objects
    this.cached = undefined;
    this.viewCache = undefined;
    this.fleetChanged();
    this.source?.resync();
  }

  private changed(arrived: number): void {
    this.cached = undefined;
    this.viewCache = undefined;
    // A change the fleet rules read is "detected" when they have re-run over it, not when this cluster refreshes.
    if (this.state?.fleetDue && this.fleetListener) this.fleetChanged(arrived);
    else this.pending.push(arrived);
    if (this.state?.clusterPassDue) this.scheduleClusterPass();
    else this.scheduleRefresh();
  }

  /** Coalesced: at most once per CLUSTER_PASS_INTERVAL_MS, after the changes queued so far. */
  private scheduleClusterPass(): void {
    if (this.passTimer || this.stopped) return;
    const wait = Math.max(0, this.lastPass + CLUSTER_PASS_INTERVAL_MS - performance.now());
    this.passTimer = setTimeout(() => {
      void this.enqueue(async () => {
        this.passTimer = undefined;
        if (!this.state?.clusterPassDue) return this.scheduleRefresh();
        this.lastPass = performance.now();
        await this.state.runClusterPass();
        this.armExpiry();
        this.cached = undefined;
        this.viewCache = undefined;
        this.scheduleRefresh();
      });
    }, wait);
    this.passTimer.unref();
  }

  /**
   * A waiver stops applying at the end of its day: nothing in the cluster changes then, so no event comes. The
   * watch keeps findings, not objects, so what the waiver hid is found again by re-reading the cluster.
   */
  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.state?.nextExpiry();
    if (next === undefined || this.stopped) return;
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, next - this.judge.now().getTime()));
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (this.judge.now().getTime() >= next) this.source?.resync();
      else this.armExpiry();
    }, wait);
    this.expiryTimer.unref();
  }

  /** Rebuilds the report after changes, at most every REFRESH_INTERVAL_MS: that is when a change is "detected". */
  private scheduleRefresh(): void {
    if (this.refreshTimer || this.stopped) return;
    const wait = Math.max(0, this.lastRefresh + REFRESH_INTERVAL_MS - performance.now());
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (this.state?.clusterPassDue) return; // the pass will refresh
      this.lastRefresh = performance.now();
      this.view();
      const now = performance.now();
      for (const t of this.pending) this.hooks.detected((now - t) / 1000);
      this.pending = [];
    }, wait);
    this.refreshTimer.unref();
  }

  /** What metrics show: the view as of the last refresh while one is pending, else a fresh one. */
  view(): ClusterView {
    if (this.viewCache) return this.viewCache;
    if (this.lastView && (this.refreshTimer || this.passTimer)) return this.lastView;
    let v: ClusterView;
    const failed = this.desiredError !== undefined || this.health !== 'ok' || !this.state;
    if (failed) v = { up: false, score: null, drift: { missing: 0, modified: 0, unmanaged: 0 }, findings: [] };
    else {
      const s = this.state!.summary(this.fleetPart);
      const drift = { missing: 0, modified: 0, unmanaged: 0 };
      for (const d of s.drift) drift[d.state]++;
      this.trackDriftAge(s.drift);
      v = { up: true, score: s.score, drift, findings: [...s.findings] };
    }
    this.lastView = v;
    return (this.viewCache = v);
  }

  /** Whether the cluster can be judged now, and why not (report and fleet rules say the same). */
  private status(): { status: ClusterStatus; error?: string } {
    if (this.desiredError !== undefined) return { status: 'error', error: `the desired state does not render: ${this.desiredError}` };
    if (this.health === 'down' && this.failure) return { status: this.failure.status, error: this.failure.message };
    if (!this.state || this.health === 'pending') return { status: 'unreachable', error: 'not synced yet' };
    return { status: 'ok' };
  }

  /** The cluster's report, the shape `scan` writes (without the fleet rules' findings: FleetWatch adds those). */
  report(): ClusterReport {
    if (this.cached) return this.cached;
    const base = { name: this.cluster.name, index: this.cluster.index, labels: this.cluster.labels, layers: this.layers, warnings: this.warnings };
    const empty: ClusterReport = { ...base, status: 'ok', score: null, objectScore: null, desired: 0, inSync: 0, objects: 0, totalWeight: 0, passedWeight: 0, drift: [], findings: [], policies: {}, waived: 0 };
    const st = this.status();
    const r: ClusterReport = st.status === 'ok' ? this.state!.report(base) : { ...empty, ...st };
    if (r.status === 'ok') this.trackDriftAge(r.drift);
    return (this.cached = r);
  }

  /** The cluster as the fleet rules see it: status, labels, layers, actions and the index of what they read. */
  fleetInput(): FleetClusterInput {
    const st = this.status();
    if (st.status === 'ok') this.fleetIndex ??= this.state!.keptObjects().filter(this.forFleet);
    return {
      name: this.name,
      labels: this.cluster.labels,
      ...st,
      layers: this.layers,
      actions: this.fleetActions ?? {},
      objects: st.status === 'ok' ? this.fleetIndex! : [],
    };
  }

  /**
   * Every fleet run hands every cluster its part; a part equal to the one it has (the usual case: one change
   * somewhere in the fleet) keeps the view, so the next scrape does not re-summarize and re-render the whole fleet.
   */
  setFleetPart(part: FleetPart): void {
    const next = part.findings.length || Object.keys(part.tallies).length ? part : undefined;
    if (sameFleetPart(this.fleetPart, next)) return;
    this.fleetPart = next;
    this.viewCache = undefined;
  }

  private fleetChanged(arrived?: number): void {
    if (this.state) this.state.fleetDue = false;
    this.fleetIndex = undefined;
    this.fleetListener?.(arrived);
  }

  private trackDriftAge(drift: readonly DriftEntry[]): void {
    if (drift === this.trackedDrift) return; // the state hands out the same list until the drift changes
    this.trackedDrift = drift;
    const now = Date.now();
    const seen = new Set<string>();
    for (const d of drift) {
      const key = `${d.state}:${identityOf({ apiVersion: d.resource.apiVersion, kind: d.resource.kind, metadata: { name: d.resource.name, namespace: d.resource.namespace } })}`;
      seen.add(key);
      if (!this.driftSince.has(key)) this.driftSince.set(key, now);
    }
    for (const k of this.driftSince.keys()) if (!seen.has(k)) this.driftSince.delete(k);
  }

  /** Age of the oldest drift still present, in seconds (0: none). */
  oldestDriftSeconds(): number {
    this.view();
    let oldest = Infinity;
    for (const t of this.driftSince.values()) oldest = Math.min(oldest, t);
    return oldest === Infinity ? 0 : (Date.now() - oldest) / 1000;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.passTimer);
    clearTimeout(this.refreshTimer);
    clearTimeout(this.expiryTimer);
    await this.source?.stop();
    await this.queue;
  }
}

/** Same fleet findings and tallies (fleet findings are few: comparing their JSON is cheap). */
function sameFleetPart(a: FleetPart | undefined, b: FleetPart | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.findings.length !== b.findings.length) return false;
  const keys = Object.keys(a.tallies);
  if (keys.length !== Object.keys(b.tallies).length) return false;
  for (const k of keys) {
    const x = a.tallies[k];
    const y = b.tallies[k];
    if (!y || x.checks !== y.checks || x.failed !== y.failed || x.severity !== y.severity) return false;
  }
  return a.findings.length === 0 || JSON.stringify(a.findings) === JSON.stringify(b.findings);
}
