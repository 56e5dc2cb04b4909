import type { ScoreFacts } from './fleet-rules.js';
import { ClusterRecord } from './record.js';
import type { ClusterReport } from './scan.js';

/**
 * A judged cluster as the streamed scan keeps it (stream.ts), made where the cluster was judged — the main thread
 * (`--jobs 1`) or a worker thread (scan-pool.ts), whose messages carry exactly this: the report serialized once
 * (its bytes go to the spool as they are), its score facts, what the fleet rules need of it (for the fleet store)
 * and a summary for progress and traces. Everything here is plain data or bytes (structured-cloneable).
 */
export interface JudgedCluster {
  /** Position in the scanned clusters (the spool's key). */
  i: number;
  /** ClusterRecord bytes of the report (without its fleet index when `fleet` is set). */
  record: Uint8Array;
  facts: ScoreFacts;
  fleet?: FleetParts;
  summary: ClusterSummary;
}

/** What the fleet store keeps of a cluster (fleet-store.ts): its index a line per object, its verdicts, its member. */
export interface FleetParts {
  lines: string;
  verdicts?: string;
  member: { name: string; labels: Record<string, string>; status: ClusterReport['status']; error?: string; layers: string[]; actions: NonNullable<ClusterReport['fleetActions']> };
}

/** A cluster's outcome in a few numbers: progress callbacks and trace spans (scan-trace.ts). */
export interface ClusterSummary {
  name: string;
  labels: Record<string, string>;
  status: ClusterReport['status'];
  error?: string;
  score: number | null;
  objects: number;
  findings: number;
  drift: number;
}

export function summaryOf(c: ClusterReport): ClusterSummary {
  return {
    name: c.name,
    labels: c.labels,
    status: c.status,
    ...(c.error !== undefined ? { error: c.error } : {}),
    score: c.score,
    objects: c.objects,
    findings: c.findings.length,
    drift: c.drift.length,
  };
}

/** A cluster's score facts; its fleet index verdicts too unless they wait in the fleet store (`verdicts` false). */
export function factsOf(c: ClusterReport, verdicts = true): ScoreFacts {
  return {
    name: c.name,
    score: c.score,
    totalWeight: c.totalWeight,
    passedWeight: c.passedWeight,
    status: c.status,
    objectScore: c.objectScore,
    objectTotalWeight: c.objectTotalWeight,
    objectPassedWeight: c.objectPassedWeight,
    ...(verdicts && c.fleetIndexVerdicts ? { fleetIndexVerdicts: c.fleetIndexVerdicts } : {}),
  };
}

/** The fleet store's parts of a report, taken off it (the report goes on without its fleet index, actions and verdicts). */
export function takeFleetParts(report: ClusterReport): FleetParts {
  const parts: FleetParts = {
    lines: (report.fleetIndex ?? []).map((o) => JSON.stringify(o)).join('\n'),
    ...(report.fleetIndexVerdicts ? { verdicts: JSON.stringify(report.fleetIndexVerdicts) } : {}),
    member: {
      name: report.name,
      labels: report.labels,
      status: report.status,
      ...(report.error ? { error: report.error } : {}),
      layers: report.layers,
      actions: report.fleetActions ?? {},
    },
  };
  delete report.fleetIndex;
  delete report.fleetActions;
  delete report.fleetIndexVerdicts;
  return parts;
}

/**
 * Cluster `i`'s report made into what the streamed scan keeps; `toStore`: the fleet rules run after the scan over
 * the fleet store (an unsharded scan with fleet policies), so the fleet index goes there rather than in the report.
 */
export function judged(i: number, report: ClusterReport, toStore: boolean): JudgedCluster {
  const summary = summaryOf(report);
  const facts = factsOf(report, false); // the verdicts wait in the fleet store (unsharded) or in the report (a shard)
  const fleet = toStore ? takeFleetParts(report) : undefined;
  return { i, record: ClusterRecord.of(report).bytes, facts, ...(fleet ? { fleet } : {}), summary };
}
