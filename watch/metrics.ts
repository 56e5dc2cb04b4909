import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ClusterHooks } from './cluster.js';
import type { FleetWatch } from './fleet-watch.js';
import type { SyncReason } from './kube.js';

/**
 * The watch's metrics (DESIGN "Continuous watch": the names are a contract). Gauges are computed from the current
 * cluster reports at scrape time, so they can never disagree with /report.json. Cardinality is bounded by the
 * fleet and the policy set, never by objects: per cluster 1 score + 1 up + 3 drift states + 1 oldest-drift +
 * 1 event counter + at most 13 sync-error reasons, and one findings series per (policy, action) that has findings.
 */
export class WatchMetrics {
  readonly registry = new Registry();
  readonly events: Counter<'cluster'>;
  readonly detect: Histogram;
  readonly syncErrors: Counter<'cluster' | 'reason'>;
  readonly historyRecords: Counter<'result'>;
  private fleet?: FleetWatch;

  // Long: a table of the metric definitions (the contract's names, help and labels), one after the other.
  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const self = this;
    const clusters = () => self.fleet?.clusters ?? [];
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
    new Gauge({
      name: 'fleetgate_cluster_score',
      help: 'Score (0-100) of a cluster: passed check weight over total weight (drift and policies), as fleetgate scan computes it.',
      labelNames: ['cluster', 'region', 'type', 'cohort'],
      registers,
      collect() {
        this.reset();
        for (const c of clusters()) {
          const v = c.view();
          if (v.score === null) continue;
          const l = c.cluster.labels;
          this.set({ cluster: c.name, region: l.region ?? '', type: l.type ?? '', cohort: l.cohort ?? '' }, v.score);
        }
      },
    });
    new Gauge({
      name: 'fleetgate_cluster_up',
      help: '1 when the cluster is synced and watched, 0 when it is not (yet): the reason is in /report.json and fleetgate_cluster_sync_errors_total.',
      labelNames: ['cluster'],
      registers,
      collect() {
        this.reset();
        for (const c of clusters()) this.set({ cluster: c.name }, c.view().up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'fleetgate_cluster_findings',
      help: 'Current findings per cluster, policy, severity and action (waived findings are not counted).',
      labelNames: ['cluster', 'policy', 'severity', 'action'],
      registers,
      collect() {
        this.reset();
        for (const c of clusters()) for (const e of c.view().findings) this.set({ cluster: c.name, policy: e.policy, severity: e.severity, action: e.action }, e.n);
      },
    });
    new Gauge({
      name: 'fleetgate_cluster_drift_objects',
      help: 'Objects drifting from the config repo, per cluster and state (missing, modified, unmanaged).',
      labelNames: ['cluster', 'state'],
      registers,
      collect() {
        this.reset();
        for (const c of clusters()) {
          const v = c.view();
          if (!v.up) continue;
          for (const [state, n] of Object.entries(v.drift)) this.set({ cluster: c.name, state }, n);
        }
      },
    });
    new Gauge({
      name: 'fleetgate_cluster_oldest_drift_seconds',
      help: 'Age of the oldest drift the cluster still has (0: in sync with the config repo).',
      labelNames: ['cluster'],
      registers,
      collect() {
        this.reset();
        for (const c of clusters()) if (c.view().up) this.set({ cluster: c.name }, c.oldestDriftSeconds());
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

  hooks(): ClusterHooks {
    return {
      detected: (s) => this.detect.observe(s),
      syncError: (cluster: string, reason: SyncReason) => this.syncErrors.inc({ cluster, reason }),
      event: (cluster) => this.events.inc({ cluster }),
    };
  }
}
