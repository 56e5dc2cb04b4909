import { describeRef } from '../src/index.js';
import type { ClusterReport } from './scan.js';

/**
 * Upgrade readiness per cohort, from the upgrade.* findings of a scan: a cluster is ready for its target
 * Kubernetes release when it has no `upgrade.removed-api` finding (an object the target no longer serves). The
 * target is each cluster's `targetVersion` parameter (set per cohort in fleet.yaml); the findings name it.
 */

export const REMOVED_API = 'upgrade.removed-api';
export const DEPRECATED_API = 'upgrade.deprecated-api';

export interface CohortReadiness {
  cohort: string;
  /** Target versions the cohort's findings name (normally one per cohort). */
  targets: string[];
  /** Scored clusters of the cohort (unreachable ones cannot be judged and are counted apart). */
  clusters: number;
  ready: number;
  unknown: number;
  /** The clusters not ready, each with what blocks it (`kind ns/name: apiVersion → replacement`). */
  blocked: { cluster: string; blockers: string[] }[];
  /** Deprecated-API findings in the cohort (ready now, to migrate before a later release). */
  deprecated: number;
}

const TARGET = /\(target ([^)]+)\)/;

export function upgradeReadiness(clusters: readonly ClusterReport[], cohortLabel = 'cohort'): CohortReadiness[] {
  const byCohort = new Map<string, CohortReadiness>();
  for (const c of clusters) addReadiness(byCohort, c, cohortLabel);
  return sortedReadiness(byCohort);
}

/** Counts one cluster into its cohort's readiness (a scan's report writers add clusters as they stream by). */
export function addReadiness(byCohort: Map<string, CohortReadiness>, c: ClusterReport, cohortLabel = 'cohort'): void {
  const cohort = c.labels[cohortLabel] ?? '(none)';
  let r = byCohort.get(cohort);
  if (!r) byCohort.set(cohort, (r = { cohort, targets: [], clusters: 0, ready: 0, unknown: 0, blocked: [], deprecated: 0 }));
  if (c.score === null) {
    r.unknown++;
    return;
  }
  r.clusters++;
  const blockers: string[] = [];
  for (const f of c.findings) {
    if (f.policy !== REMOVED_API && f.policy !== DEPRECATED_API) continue;
    const target = TARGET.exec(f.message)?.[1];
    if (target && !r.targets.includes(target)) r.targets.push(target);
    if (f.policy === DEPRECATED_API) r.deprecated++;
    else blockers.push(`${describeRef(f.resource)}: ${f.message}`);
  }
  if (blockers.length) r.blocked.push({ cluster: c.name, blockers });
  else r.ready++;
}

export function sortedReadiness(byCohort: ReadonlyMap<string, CohortReadiness>): CohortReadiness[] {
  return [...byCohort.values()].sort((a, b) => a.cohort.localeCompare(b.cohort, undefined, { numeric: true }));
}

/** Terminal lines for the pretty report; nothing when no cluster has an upgrade finding. */
export function readinessLines(rows: readonly CohortReadiness[], bold: (s: string) => string): string[] {
  if (!rows.some((r) => r.blocked.length || r.deprecated)) return [];
  const out = ['', bold('Upgrade readiness per cohort')];
  for (const r of rows) {
    const target = r.targets.length ? ` → ${r.targets.join(', ')}` : '';
    out.push(`  cohort ${r.cohort}${target}: ${r.ready}/${r.clusters} clusters ready${r.unknown ? `, ${r.unknown} not scanned` : ''}${r.deprecated ? `; ${r.deprecated} deprecated-API findings` : ''}`);
    for (const b of r.blocked) {
      out.push(`    ${b.cluster} blocked by ${b.blockers.length} object${b.blockers.length === 1 ? '' : 's'}:`);
      for (const x of b.blockers.slice(0, 5)) out.push(`      ${x}`);
      if (b.blockers.length > 5) out.push(`      … ${b.blockers.length - 5} more`);
    }
  }
  return out;
}
