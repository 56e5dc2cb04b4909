import { createHash } from 'node:crypto';
import { realpathSync, watch as fsWatch, type FSWatcher } from 'node:fs';
import { resolve, sep } from 'node:path';
import type { KubeObject, Policy } from '../src/index.js';
import { DesiredState, loadLayers } from '../scanner/desired.js';
import { formatFleetError, type Fleet, type FleetCluster } from '../scanner/fleet.js';
import { buildFleetReport, kindsToRead, shardClusters, type FleetReport } from '../scanner/scan.js';
import { applyFleetResult } from '../scanner/fleet-rules.js';
import { isFleetPolicy } from '../src/engine/index.js';
import { fleetScore } from '../scanner/score.js';
import { rolloutProgress } from '../scanner/rollouts.js';
import { WatchedCluster, type ClusterHooks } from './cluster.js';
import { clusterScopeKinds, createJudge, type Judge } from './judge.js';
import { FleetRules } from './fleet-rules.js';
import { Gate, LiveSource } from './live.js';
import { SnapshotSource } from './snapshot.js';

/**
 * The whole watch: one WatchedCluster per cluster of this shard, each with its source, and the config repo
 * watched so a change re-renders the desired state — once per distinct layer set — and re-judges only the clusters
 * whose desired objects changed.
 */

export interface WatchTuning {
  /** Initial lists running at once, fleet-wide (default 16). */
  listSlots?: number;
  watchTimeoutSeconds?: number;
  idleMs?: number;
  backoffMs?: { base: number; max: number };
  /** Debounce of file changes, ms (snapshot folders and the config repo). */
  debounceMs?: number;
  /** How often the config repo path's symlink target is checked (git-sync swaps it), ms. */
  repoPollMs?: number;
  /** The clock judgements (and waiver expiry) go by; tests shift it. */
  clock?: () => Date;
}

export interface FleetWatchOptions {
  fleet: Fleet;
  policies: readonly Policy[];
  shard?: { index: number; count: number };
  hooks: ClusterHooks;
  tuning?: WatchTuning;
  /** Told about config-repo renders (logs). */
  log?: (msg: string, fields?: Record<string, unknown>) => void;
}

export class FleetWatch {
  readonly clusters: WatchedCluster[] = [];
  private desired!: DesiredState;
  private readonly fingerprints = new Map<string, string>();
  private repoWatcher?: FSWatcher;
  private repoTimer?: NodeJS.Timeout;
  private repoPoll?: NodeJS.Timeout;
  private repoReal?: string;
  private rendering: Promise<void> = Promise.resolve();
  private kinds = new Map<string, { apiVersion: string; kind: string }[]>();
  /** The fleet-scope rules, re-run when what they read changes (none on a shard: it sees part of the fleet). */
  readonly fleetRules?: FleetRules;

  private constructor(
    private readonly o: FleetWatchOptions,
    private readonly judge: Judge,
  ) {}

  static async start(o: FleetWatchOptions): Promise<FleetWatch> {
    const w = new FleetWatch(o, await createJudge(o.policies, { clock: o.tuning?.clock }));
    await w.boot();
    return w;
  }

  private async boot(): Promise<void> {
    const { fleet, tuning = {} } = this.o;
    const rendered = await this.render();
    // Kinds kept whole for the cluster-scope policies (the objects fleet rules read are kept by their own test).
    const keptKinds = clusterScopeKinds(this.o.policies);
    const gate = new Gate(tuning.listSlots ?? 16);
    for (const c of shardClusters(fleet.clusters, this.o.shard)) {
      const wc = new WatchedCluster(c, fleet, this.judge, this.desired.for(c), this.desired.layerNames(c), keptKinds, this.o.hooks);
      const err = rendered.broken(c);
      if (err) wc.setDesired(this.desired.for(c), this.desired.layerNames(c), err);
      this.fingerprints.set(c.name, this.fingerprint(c));
      wc.source =
        'snapshot' in c.source
          ? new SnapshotSource(wc, c.source.snapshot, tuning.debounceMs ?? 200)
          : new LiveSource(wc, {
              kubeconfig: c.source.kubeconfig,
              context: c.source.context,
              allowExecPlugins: fleet.allowExecPlugins,
              kinds: () => this.kindsFor(c),
              budgetMs: fleet.timeoutSeconds * 1000,
              watchTimeoutSeconds: tuning.watchTimeoutSeconds ?? 300,
              idleMs: tuning.idleMs ?? 90_000,
              gate,
              backoffMs: tuning.backoffMs,
            });
      this.clusters.push(wc);
    }
    // A shard sees part of the fleet; `--shard 0/1` (the chart's single replica) sees all of it.
    if (this.o.policies.some(isFleetPolicy) && !((this.o.shard?.count ?? 1) > 1)) {
      const rules = new FleetRules(this.o.policies, { parameters: fleet.parameters, actions: fleet.actions }, this.clusters, (s) => this.o.hooks.detected(s));
      (this as { fleetRules?: FleetRules }).fleetRules = rules;
      for (const wc of this.clusters) wc.fleetListener = (arrived) => rules.changed(arrived);
      rules.changed();
    }
    for (const wc of this.clusters) wc.source!.start();
    this.watchRepo();
  }

  /** What a live cluster lists: computed once per distinct layer set. */
  private kindsFor(c: FleetCluster): { apiVersion: string; kind: string }[] {
    const key = this.desired.layerNames(c).join('\n');
    let k = this.kinds.get(key);
    if (!k) this.kinds.set(key, (k = kindsToRead(this.o.policies, this.desired.for(c).values(), this.o.fleet.owned)));
    return k;
  }

  /** Loads the layers; which clusters a rendering error concerns is decided by the layers they use. */
  private async render(): Promise<{ broken: (c: FleetCluster) => string | undefined }> {
    const { layers, errors } = await loadLayers(this.o.fleet);
    this.desired = new DesiredState(layers);
    this.kinds.clear();
    const byLayer = new Map<string, string[]>();
    for (const e of errors) {
      const file = resolve(e.file);
      const layer = [...this.o.fleet.layers]
        .filter((l) => file === resolve(l.dir) || file.startsWith(resolve(l.dir) + sep))
        .sort((a, b) => b.dir.length - a.dir.length)[0];
      const key = layer?.path ?? '*';
      byLayer.set(key, [...(byLayer.get(key) ?? []), formatFleetError(e)]);
    }
    if (errors.length) this.o.log?.('the config repo does not render', { errors: errors.map(formatFleetError) });
    return {
      broken: (c) => {
        const msgs = [...(byLayer.get('*') ?? []), ...this.desired.layerNames(c).flatMap((l) => byLayer.get(l) ?? [])];
        return msgs.length ? msgs.slice(0, 3).join('; ') + (msgs.length > 3 ? ` (and ${msgs.length - 3} more)` : '') : undefined;
      },
    };
  }

  /** A digest of a cluster's desired objects, once per distinct layer set. */
  private fingerprintCache = new Map<string, string>();
  private fingerprint(c: FleetCluster): string {
    const key = this.desired.layerNames(c).join('\n');
    let f = this.fingerprintCache.get(key);
    if (!f) {
      const h = createHash('sha256');
      for (const [id, o] of this.desired.for(c)) h.update(id).update('\0').update(JSON.stringify(o)).update('\0');
      this.fingerprintCache.set(key, (f = h.digest('hex')));
    }
    return f;
  }

  private watchRepo(): void {
    this.watchRepoFiles();
    // git-sync (the chart's sidecar) checks each commit out into a new folder and swaps a symlink to it: a watcher
    // on the old folder hears nothing, so the link's target is polled as well.
    this.repoReal = realpathOr(this.o.fleet.repo);
    this.repoPoll = setInterval(() => {
      const now = realpathOr(this.o.fleet.repo);
      if (now === this.repoReal) return;
      this.repoReal = now;
      this.repoWatcher?.close();
      this.watchRepoFiles();
      void this.rerender();
    }, this.o.tuning?.repoPollMs ?? 5000);
    this.repoPoll.unref();
  }

  private watchRepoFiles(): void {
    try {
      this.repoWatcher = fsWatch(this.o.fleet.repo, { recursive: true }, (_event, file) => {
        const f = String(file ?? '');
        // git's object store churns on every fetch; HEAD moving comes with the working files changing
        if (f.startsWith('.git' + sep) && f !== `.git${sep}HEAD`) return;
        clearTimeout(this.repoTimer);
        this.repoTimer = setTimeout(() => void this.rerender(), this.o.tuning?.debounceMs ?? 200);
        this.repoTimer.unref();
      });
      this.repoWatcher.on('error', () => undefined);
    } catch (err) {
      this.o.log?.('cannot watch the config repo; desired state is read once', { error: String(err) });
    }
  }

  /** The config repo changed: render again, re-judge the clusters whose desired state changed or broke or healed. */
  rerender(): Promise<void> {
    this.rendering = this.rendering.then(async () => {
      this.fingerprintCache.clear();
      const rendered = await this.render();
      let changed = 0;
      for (const wc of this.clusters) {
        const c = wc.cluster;
        const err = rendered.broken(c);
        const fp = this.fingerprint(c);
        if (!err && fp === this.fingerprints.get(c.name) && !wc.hasDesiredError) continue;
        if (!err) this.fingerprints.set(c.name, fp);
        wc.setDesired(this.desired.for(c), this.desired.layerNames(c), err);
        changed++;
      }
      this.o.log?.('config repo rendered', { clustersChanged: changed, layerSets: this.fingerprintCache.size });
    });
    return this.rendering;
  }

  /** Ready: every cluster has synced once or failed with a reason. */
  ready(): boolean {
    return this.clusters.every((c) => c.settled);
  }

  report(): FleetReport {
    // Cluster reports are cached and shared: the fleet rules add to copies.
    const clusters = this.clusters.map((c) => {
      const r = c.report();
      return { ...r, findings: [...r.findings], policies: { ...r.policies } };
    });
    const report = buildFleetReport(clusters, this.o.fleet.file, this.o.shard, rolloutProgress(this.o.fleet, this.desired));
    if (!this.o.policies.some(isFleetPolicy)) return report;
    // A shard watches part of the fleet: rules over the whole fleet cannot be judged there.
    if (!this.fleetRules) return { ...report, fleetRules: { deferred: true, rules: [] } };
    // The last run of the fleet rules (the one /metrics shows), brought up to date if a change is waiting.
    this.fleetRules.flush();
    // As the scan does it (finishFleetRules): findings join the clusters that hold the resources, both scores follow.
    for (const c of report.clusters) {
      applyFleetResult(c, this.fleetRules.result);
      delete c.fleetIndexVerdicts;
    }
    return { ...buildFleetReport(report.clusters, report.fleet, report.shard, report.rollouts), fleetRules: { rules: this.fleetRules.rules } };
  }

  /** The fleet score as the metrics show it (from each cluster's current report). */
  currentScore(): number | null {
    return fleetScore(this.clusters.map((c) => c.view()));
  }

  desiredObjects(c: FleetCluster): ReadonlyMap<string, KubeObject> {
    return this.desired.for(c);
  }

  async stop(): Promise<void> {
    this.fleetRules?.stop();
    clearTimeout(this.repoTimer);
    clearInterval(this.repoPoll);
    this.repoWatcher?.close();
    await this.rendering;
    await Promise.all(this.clusters.map((c) => c.stop()));
    await this.judge.close();
  }
}

function realpathOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
