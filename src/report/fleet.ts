import type { Policy } from '../authoring/index.js';
import type { FleetRuleResult } from '../engine/index.js';
import type { Finding } from '../model/index.js';
import { BOLD, DIM, GREEN, RED, YELLOW, type Paint } from './colors.js';

/**
 * The fleet side of lint's reports. `lint --fleet` judges every cluster's desired state, so one line of the config
 * repo can give the same finding on hundreds of clusters: JSON keeps one finding per cluster (each with `cluster`),
 * pretty and SARIF show it once with the clusters it is on. Plain lint says the fleet rules were skipped.
 */

/** The fleet section of a lint report: the rules that ran over the fleet, or why none did. */
export interface LintFleetSection {
  /** Set when fleet-scope rules did not run (lint without --fleet): why, and which rules. */
  skipped?: string;
  rules: FleetRuleResult[];
}

/** The section plain lint reports: the fleet-scope policies it has, which need a fleet to judge. */
export function skippedFleetRules(policies: readonly Policy[]): LintFleetSection | undefined {
  const fleet = policies.filter((p) => p.scope === 'fleet');
  if (!fleet.length) return undefined;
  return {
    skipped: 'fleet-scope rules judge every cluster of a fleet; lint --fleet FILE runs them over the config repo',
    rules: fleet.map((p) => ({ policy: p.id, findings: 0, unknown: [] })),
  };
}

/** Findings that differ only by cluster, as one entry with the clusters it is on (in first-seen order). */
export function groupAcrossClusters(findings: readonly Finding[]): { finding: Finding; clusters: string[] }[] {
  const groups = new Map<string, { finding: Finding; clusters: string[] }>();
  let n = 0;
  for (const f of findings) {
    const key = f.cluster === undefined ? `#${n++}` : JSON.stringify({ ...f, cluster: undefined });
    const g = groups.get(key);
    if (g) g.clusters.push(f.cluster!);
    else groups.set(key, { finding: f, clusters: f.cluster === undefined ? [] : [f.cluster] });
  }
  return [...groups.values()];
}

/** `par01`, or `3 clusters: par01, fra01, ams01`, or `847 clusters: a, b, c, d, e, f and 841 more`. */
export function clusterList(clusters: readonly string[], max = 6): string {
  if (clusters.length === 1) return clusters[0];
  const shown = clusters.slice(0, max).join(', ');
  return `${clusters.length} clusters: ${shown}${clusters.length > max ? ` and ${clusters.length - max} more` : ''}`;
}

/** Pretty lines of the fleet section: each rule's outcome and what it could not judge, or why none ran. */
export function fleetSectionPretty(section: LintFleetSection | undefined, paint: Paint): string[] {
  if (!section) return [];
  if (section.skipped) return [paint(DIM, `Fleet rules skipped (${section.rules.map((r) => r.policy).join(', ')}): ${section.skipped}`), ''];
  const out = [paint(BOLD, 'Fleet rules')];
  const width = Math.max(0, ...section.rules.map((r) => r.policy.length));
  for (const r of section.rules) {
    const state = r.error ? paint(RED, r.error) : r.findings ? paint(RED, `${r.findings} finding${r.findings === 1 ? '' : 's'}`) : paint(GREEN, 'no findings');
    const unknown = r.unknown.length ? paint(YELLOW, `; unknown on ${r.unknown.map((u) => `${u.cluster} (${u.reason})`).join(', ')}`) : '';
    out.push(`  ${r.policy.padEnd(width)}  ${state}${unknown}`);
  }
  out.push('');
  return out;
}
