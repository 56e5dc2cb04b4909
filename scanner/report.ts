import { describeRef, type Finding } from '../src/index.js';
import { BOLD, CYAN, DIM, GREEN, RED, YELLOW, type Paint } from '../src/report/index.js';
import type { ClusterReport, FleetHead, FleetReport } from './scan.js';
import { buildFleetReport } from './scan.js';
import { formatReports, type ReportOptions } from './policy-reports.js';
import { SEVERITY_WEIGHT } from './score.js';
import { rolloutsPretty } from './rollouts.js';
import { fleetRulesPretty } from './fleet-rules.js';
import { readinessLines } from './upgrade-readiness.js';
import { FleetAggregates, WorstClusters } from './aggregates.js';

const ACTION_RANK = { deny: 0, warn: 1, audit: 2 } as const;

/** What the terminal shows first when it cannot show everything: denials, then by severity. */
function mostSevereFirst(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => ACTION_RANK[a.action] - ACTION_RANK[b.action] || SEVERITY_WEIGHT[b.severity] - SEVERITY_WEIGHT[a.severity]);
}

/** Fleet report formats: json (the contract), pretty (terminal), html (one self-contained file), policyreport (wg-policy). */

export function formatJson(report: FleetReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function bar(score: number, width = 20): string {
  const n = Math.round((score / 100) * width);
  return '█'.repeat(n) + '░'.repeat(width - n);
}

function fmtValue(v: unknown): string {
  const s = v === undefined ? 'null' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** The terminal report, built as clusters stream by: a line per cluster, aggregates, and the worst few in full. */
export class PrettyReport {
  private readonly agg = new FleetAggregates();
  private readonly worst: WorstClusters;
  private readonly top: number;

  constructor(opts: { details?: number; top?: number } = {}) {
    this.top = opts.top ?? 10;
    this.worst = new WorstClusters(opts.details ?? 5, (c) => c.score !== null && (c.drift.length > 0 || c.findings.length > 0));
  }

  add(c: ClusterReport): void {
    this.agg.add(c);
    this.worst.offer(c);
  }

  render(report: FleetHead, paint: Paint): string {
    const { top, agg } = this;
    const out: string[] = [];
    const tint = (s: number | null) => (s === null ? DIM : s >= 90 ? GREEN : s >= 70 ? YELLOW : RED);
    const { summary } = report;
    const shard = report.shard ? ` — shard ${report.shard.index}/${report.shard.count}` : '';
    out.push(
      paint(BOLD, `Fleet score ${report.score === null ? '—' : report.score.toFixed(1)} / 100`) +
        `  (${summary.clusters} clusters: ${summary.scored} scored, ${summary.unreachable} unreachable, ${summary.error} error${shard})`,
      '',
      paint(BOLD, 'Clusters, worst first'),
    );
    const width = Math.max(8, ...agg.rows.map((c) => c.name.length));
    for (const c of agg.worstFirst()) {
      if (c.score === null) {
        out.push(`  ${c.name.padEnd(width)}  ${paint(RED, c.status.padEnd(5))}  ${c.error ?? ''}`);
        continue;
      }
      out.push(
        `  ${c.name.padEnd(width)}  ${paint(tint(c.score), c.score.toFixed(1).padStart(5))}  ${paint(tint(c.score), bar(c.score))}  ` +
          `in sync ${c.inSync}/${c.desired}, ${c.missing} missing, ${c.modified} modified${c.unmanaged ? `, ${c.unmanaged} unmanaged` : ''}; ${c.findings} findings`,
      );
    }
    const pols = agg.policyAggregates().filter((p) => p.failed > 0).slice(0, top);
    if (pols.length) {
      out.push('', paint(BOLD, 'Top failing policies'));
      const pw = Math.max(...pols.map((p) => p.policy.length));
      for (const p of pols)
        out.push(
          `  ${p.policy.padEnd(pw)}  ${p.severity.padEnd(8)}  ${p.failed}/${p.checks} checks failed in ${p.clusters} cluster${p.clusters === 1 ? '' : 's'}`,
        );
    }
    const drift = agg.driftAggregates().slice(0, top);
    if (drift.length) {
      out.push('', paint(BOLD, 'Top drift'));
      for (const d of drift) out.push(`  ${d.state.padEnd(9)}  ${d.resource}  in ${d.clusters} cluster${d.clusters === 1 ? '' : 's'}`);
    }
    out.push(
      ...readinessLines(agg.upgradeReadiness(), (x) => paint(BOLD, x)),
      ...rolloutsPretty(report.rollouts, paint),
      ...fleetRulesPretty(report.fleetRules, agg.fleetFindings, paint),
    );
    for (const c of this.worst.kept) out.push(...clusterDetails(c, paint));
    out.push('');
    return out.join('\n');
  }
}

function clusterDetails(c: ClusterReport, paint: Paint): string[] {
  const out = ['', paint(BOLD, `${c.name}`) + paint(DIM, `  (${Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(', ')}; layers: ${c.layers.join(', ')})`)];
  for (const d of c.drift.slice(0, 10)) {
    out.push(`  ${paint(d.state === 'missing' ? RED : YELLOW, d.state.padEnd(9))}  ${describeRef(d.resource)}`);
    for (const diff of d.diffs.slice(0, 5)) out.push(paint(DIM, `      ${diff.path}: desired ${fmtValue(diff.desired)}, live ${fmtValue(diff.live)}`));
    if (d.diffs.length > 5) out.push(paint(DIM, `      … ${d.diffs.length - 5} more`));
  }
  if (c.drift.length > 10) out.push(paint(DIM, `  … ${c.drift.length - 10} more drifted objects`));
  for (const f of mostSevereFirst(c.findings).slice(0, 10))
    out.push(`  ${paint(CYAN, f.policy)} ${paint(DIM, `[${f.severity}/${f.action}]`)} ${describeRef(f.resource)}: ${f.message}`);
  if (c.findings.length > 10) out.push(paint(DIM, `  … ${c.findings.length - 10} more findings`));
  return out;
}

export function formatPretty(report: FleetReport, paint: Paint, opts: { details?: number; top?: number } = {}): string {
  const pretty = new PrettyReport(opts);
  for (const c of report.clusters) pretty.add(c);
  return pretty.render(report, paint);
}

/** wg-policy PolicyReport (per namespace) and ClusterPolicyReport (cluster-scoped resources) per cluster (see policy-reports.ts). */
export function formatPolicyReport(report: FleetReport, opts: ReportOptions = {}): string {
  return formatReports(report, 'policyreport', opts);
}

/** Joins shard reports (JSON) into one fleet report; a cluster present in two reports is an error. */
export function mergeReports(reports: readonly FleetReport[]): FleetReport {
  const seen = new Map<string, number>();
  const clusters: ClusterReport[] = [];
  reports.forEach((r, i) => {
    if (!r || !Array.isArray(r.clusters)) throw new Error(`report ${i + 1} is not a fleetgate scan JSON report (no "clusters")`);
    for (const c of r.clusters) {
      if (seen.has(c.name)) throw new Error(`cluster "${c.name}" is in report ${seen.get(c.name)! + 1} and report ${i + 1}`);
      seen.set(c.name, i);
      clusters.push(c);
    }
  });
  clusters.sort((a, b) => (a.index ?? 0) - (b.index ?? 0) || (a.name < b.name ? -1 : 1));
  return buildFleetReport(clusters, reports[0]?.fleet ?? '', undefined, reports[0]?.rollouts); // every shard reports the same rollouts
}
