import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterHooks, ClusterView, WatchedCluster } from './cluster.js';
import type { FleetWatch } from './fleet-watch.js';
import type { SyncReason } from './kube.js';

/** The per-cluster gauges, in the order they are written (after the registry's own metrics). */
const CLUSTER_GAUGES = [
  ['fleetgate_cluster_score', 'Score (0-100) of a cluster: passed check weight over total weight (drift and policies), as fleetgate scan computes it.'],
  ['fleetgate_cluster_up', '1 when the cluster is synced and watched, 0 when it is not (yet): the reason is in /report.json and fleetgate_cluster_sync_errors_total.'],
  ['fleetgate_cluster_findings', 'Current findings per cluster, policy, severity and action (waived findings are not counted).'],
  ['fleetgate_cluster_drift_objects', 'Objects drifting from the config repo, per cluster and state (missing, modified, unmanaged).'],
  ['fleetgate_cluster_oldest_drift_seconds', 'Age of the oldest drift the cluster still has (0: in sync with the config repo).'],
] as const;

/** A label value as the text format writes it (prom-client's escaping). */
const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
/** A sample value as prom-client writes it. */
const num = (v: number) => (Number.isNaN(v) ? 'Nan' : v === Infinity ? '+Inf' : v === -Infinity ? '-Inf' : String(v));

/**
 * The registry, with the per-cluster gauges written after its own metrics from text rendered once per cluster view:
 * a scrape of a fleet that barely changed costs the joining of cached lines, not a label set hashed per series.
 */
class WatchRegistry extends Registry {
  constructor(private readonly clusterText: () => string) {
    super();
  }

  override async metrics(): Promise<string> {
    return `${await super.metrics()}\n${this.clusterText()}\n`;
  }
}

/** One cluster's lines of each gauge but the oldest-drift age (that one moves with the clock: written per scrape). */
type ClusterLines = [score: string, up: string, findings: string, drift: string];

/**
 * The watch's metrics (DESIGN "Continuous watch": the names are a contract). Gauges show the current cluster views
 * (refreshed at most every REFRESH_INTERVAL_MS after a change), so they can never disagree with /report.json for
 * long. Cardinality is bounded by the fleet and the policy set, never by objects: per cluster 1 score + 1 up + 3
 * drift states + 1 oldest-drift + 1 event counter + at most 13 sync-error reasons, and one findings series per
 * (policy, action) that has findings. A cluster's gauges are rendered as text once per view (watch/cluster.ts makes
 * a new view on each change) and reused by every scrape until the next.
 */
export class WatchMetrics {
  readonly registry: Registry = new WatchRegistry(() => this.clusterText());
  private readonly rendered = new WeakMap<ClusterView, ClusterLines>();
  readonly events: Counter<'cluster'>;
  readonly detect: Histogram;
  readonly syncErrors: Counter<'cluster' | 'reason'>;
  readonly historyRecords: Counter<'result'>;
  private fleet?: FleetWatch;

  // Long: a table of the metric definitions (the contract's names, help and labels), one after the other.
  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const self = this;
    new Gauge({
      name: 'fleetgate_fleet_score',
      help: 'Mean score (0-100) over the scored clusters of this shard; absent while none is scored.',
      registers,
      collect() {
        this.reset();
        const score = self.fleet?.currentScore();
        if (typeof score === 'number') this.set(score);
      },
    });
    this.events = new Counter({ name: 'fleetgate_watch_events_total', help: 'Watch events received, per cluster.', labelNames: ['cluster'], registers });
    this.detect = new Histogram({
      name: 'fleetgate_watch_detect_seconds',
      help: "From a change's arrival (watch event, snapshot file change) to the metrics and the report reflecting it.",
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10],
      registers,
    });
    this.syncErrors = new Counter({
      name: 'fleetgate_cluster_sync_errors_total',
      help: 'Problems reading or watching a cluster, per reason (unauthorized, unreachable, timeout, gone, dropped, malformed-event, desired-render, ...).',
      labelNames: ['cluster', 'reason'],
      registers,
    });
    this.historyRecords = new Counter({
      name: 'fleetgate_watch_history_records_total',
      help: 'Records of the fleet report in the history store (watch --history), per result: ok, error, skipped (not synced yet, or the previous record still being written).',
      labelNames: ['result'],
      registers,
    });
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'fleetgate_watch_' });
  }

  attach(fleet: FleetWatch): void {
    this.fleet = fleet;
    for (const c of fleet.clusters) this.events.inc({ cluster: c.name }, 0); // present from the start
  }

  /** The per-cluster gauges as text: each cluster's lines from its current view, rendered when the view is new. */
  private clusterText(): string {
    const clusters = this.fleet?.clusters ?? [];
    const parts: string[][] = CLUSTER_GAUGES.map(([name, help]) => [`# HELP ${name} ${help}\n# TYPE ${name} gauge`]);
    for (const c of clusters) {
      const v = c.view();
      let lines = this.rendered.get(v);
      if (!lines) this.rendered.set(v, (lines = renderCluster(c, v)));
      for (let i = 0; i < lines.length; i++) if (lines[i]) parts[i].push(lines[i]);
      if (v.up) parts[4].push(`fleetgate_cluster_oldest_drift_seconds{cluster="${esc(c.name)}"} ${num(c.oldestDriftSeconds())}`);
    }
    return parts.map((p) => p.join('\n')).join('\n\n');
  }

  hooks(): ClusterHooks {
    return {
      detected: (s) => this.detect.observe(s),
      syncError: (cluster: string, reason: SyncReason) => this.syncErrors.inc({ cluster, reason }),
      event: (cluster) => this.events.inc({ cluster }),
    };
  }
}

function renderCluster(c: WatchedCluster, v: ClusterView): ClusterLines {
  const cluster = `cluster="${esc(c.name)}"`;
  const l = c.cluster.labels;
  const score = v.score === null ? '' : `fleetgate_cluster_score{${cluster},region="${esc(l.region ?? '')}",type="${esc(l.type ?? '')}",cohort="${esc(l.cohort ?? '')}"} ${num(v.score)}`;
  const up = `fleetgate_cluster_up{${cluster}} ${v.up ? 1 : 0}`;
  const findings = v.findings.map((e) => `fleetgate_cluster_findings{${cluster},policy="${esc(e.policy)}",severity="${esc(e.severity)}",action="${esc(e.action)}"} ${num(e.n)}`).join('\n');
  const drift = v.up ? Object.entries(v.drift).map(([state, n]) => `fleetgate_cluster_drift_objects{${cluster},state="${state}"} ${num(n)}`).join('\n') : '';
  return [score, up, findings, drift];
}
