import { describeRef, type Finding, type Severity } from '../src/index.js';
import type { ClusterReport, ClusterStatus } from './scan.js';
import { round1, SEVERITY_WEIGHT } from './score.js';
import { addReadiness, sortedReadiness, type CohortReadiness } from './upgrade-readiness.js';

/**
 * What the fleet-wide parts of the pretty and HTML reports need, gathered one cluster at a time: the report
 * writers see each cluster once, as it streams by, and keep these (a line per cluster, and per policy, drift
 * entry, region and cohort a counter) instead of every cluster's report.
 */

export interface PolicyAggregate {
  policy: string;
  severity: Severity;
  checks: number;
  failed: number;
  findings: number;
  clusters: number;
}

export interface DriftAggregate {
  resource: string;
  state: string;
  clusters: number;
}

/** The one line a cluster gets in the fleet-wide parts of a report. */
export interface ClusterRow {
  name: string;
  score: number | null;
  objectScore?: number | null;
  status: ClusterStatus;
  error?: string;
  region?: string;
  inSync: number;
  desired: number;
  missing: number;
  modified: number;
  unmanaged: number;
  drift: number;
  findings: number;
}

/** Clusters worst first: unscored first (they need attention most), then by score, then by name. */
export function worstOrder(a: { score: number | null; name: string }, b: { score: number | null; name: string }): number {
  const sa = a.score ?? -1;
  const sb = b.score ?? -1;
  return sa - sb || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

type Ranked = { score: number | null; objectScore?: number | null; name: string };

/**
 * Clusters worst first by objectScore (it separates clusters that `score` puts within a point), then by score;
 * unscored first, as worstOrder.
 */
export function worstByObjects(a: Ranked, b: Ranked): number {
  const key = (c: Ranked) => (c.score === null ? -1 : typeof c.objectScore === 'number' ? c.objectScore : c.score);
  return key(a) - key(b) || (a.score ?? -1) - (b.score ?? -1) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

export class FleetAggregates {
  readonly rows: ClusterRow[] = [];
  /** Fleet-rule findings (those with `cluster` set), in fleet order. */
  readonly fleetFindings: { cluster: string; finding: Finding }[] = [];
  private readonly policies = new Map<string, PolicyAggregate>();
  private readonly drift = new Map<string, DriftAggregate>();
  private readonly regions = new Map<string, { sum: number; n: number }>();
  private readonly readiness = new Map<string, CohortReadiness>();

  constructor(private readonly regionLabel = 'region') {}

  add(c: ClusterReport): void {
    let missing = 0;
    let modified = 0;
    let unmanaged = 0;
    for (const d of c.drift) {
      if (d.state === 'missing') missing++;
      else if (d.state === 'modified') modified++;
      else if (d.state === 'unmanaged') unmanaged++;
      const resource = describeRef(d.resource);
      const key = `${d.state} ${resource}`;
      let a = this.drift.get(key);
      if (!a) this.drift.set(key, (a = { resource, state: d.state, clusters: 0 }));
      a.clusters++;
    }
    this.rows.push({
      name: c.name,
      score: c.score,
      ...(c.objectScore !== undefined ? { objectScore: c.objectScore } : {}),
      status: c.status,
      ...(c.error !== undefined ? { error: c.error } : {}),
      region: c.labels.region,
      inSync: c.inSync,
      desired: c.desired,
      missing,
      modified,
      unmanaged,
      drift: c.drift.length,
      findings: c.findings.length,
    });
    for (const [id, t] of Object.entries(c.policies)) {
      let a = this.policies.get(id);
      if (!a) this.policies.set(id, (a = { policy: id, severity: t.severity, checks: 0, failed: 0, findings: 0, clusters: 0 }));
      a.checks += t.checks;
      a.failed += t.failed;
      if (t.failed) a.clusters++;
    }
    for (const f of c.findings) {
      const a = this.policies.get(f.policy);
      if (a) a.findings++;
      if ((f as { cluster?: string }).cluster) this.fleetFindings.push({ cluster: c.name, finding: f });
    }
    if (c.score !== null) {
      const r = c.labels[this.regionLabel] ?? '(none)';
      let s = this.regions.get(r);
      if (!s) this.regions.set(r, (s = { sum: 0, n: 0 }));
      s.sum += c.score;
      s.n++;
    }
    addReadiness(this.readiness, c);
  }

  worstFirst(): ClusterRow[] {
    return [...this.rows].sort(worstOrder);
  }

  policyAggregates(): PolicyAggregate[] {
    return [...this.policies.values()].sort(
      (a, b) => b.failed * SEVERITY_WEIGHT[b.severity] - a.failed * SEVERITY_WEIGHT[a.severity] || (a.policy < b.policy ? -1 : 1),
    );
  }

  driftAggregates(): DriftAggregate[] {
    return [...this.drift.values()].sort((a, b) => b.clusters - a.clusters || (a.resource < b.resource ? -1 : 1));
  }

  byRegion(): { region: string; score: number; clusters: number }[] {
    return [...this.regions.entries()]
      .map(([region, s]) => ({ region, score: round1(s.sum / s.n), clusters: s.n }))
      .sort((a, b) => a.score - b.score || (a.region < b.region ? -1 : 1));
  }

  upgradeReadiness(): CohortReadiness[] {
    return sortedReadiness(this.readiness);
  }
}

/** The aggregates of clusters held in memory (a report read back, the watch's report). */
export function aggregatesOf(clusters: readonly ClusterReport[]): FleetAggregates {
  const a = new FleetAggregates();
  for (const c of clusters) a.add(c);
  return a;
}

/** The `n` worst clusters among those offered, kept as they stream by (the pretty report's detail sections). */
export class WorstClusters {
  readonly kept: ClusterReport[] = [];

  constructor(
    private readonly n: number,
    private readonly wanted: (c: ClusterReport) => boolean,
  ) {}

  offer(c: ClusterReport): void {
    if (this.n <= 0 || !this.wanted(c)) return;
    if (this.kept.length === this.n && worstOrder(c, this.kept[this.n - 1]) >= 0) return;
    let i = this.kept.length;
    while (i > 0 && worstOrder(c, this.kept[i - 1]) < 0) i--;
    this.kept.splice(i, 0, c);
    if (this.kept.length > this.n) this.kept.pop();
  }
}
