import { stringify } from 'yaml';
import { describeRef, type Finding, type Severity } from '../src/index.js';
import { BOLD, CYAN, DIM, GREEN, RED, YELLOW, type Paint } from '../src/report/index.js';
import type { ClusterReport, FleetReport } from './scan.js';
import { buildFleetReport } from './scan.js';
import { round1, SEVERITY_WEIGHT } from './score.js';
import { rolloutsPretty } from './rollouts.js';

const ACTION_RANK = { deny: 0, warn: 1, audit: 2 } as const;

/** What the terminal shows first when it cannot show everything: denials, then by severity. */
function mostSevereFirst(findings: readonly Finding[]): Finding[] {
  return [...findings].sort((a, b) => ACTION_RANK[a.action] - ACTION_RANK[b.action] || SEVERITY_WEIGHT[b.severity] - SEVERITY_WEIGHT[a.severity]);
}

/** Fleet report formats: json (the contract), pretty (terminal), html (one self-contained file), policyreport (wg-policy). */

export function formatJson(report: FleetReport): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

/** Clusters worst first: errors/unreachable at the end of the scored ones? No: unscored first, they need attention most. */
export function worstFirst(clusters: readonly ClusterReport[]): ClusterReport[] {
  return [...clusters].sort((a, b) => {
    const sa = a.score ?? -1;
    const sb = b.score ?? -1;
    return sa - sb || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  });
}

export interface PolicyAggregate {
  policy: string;
  severity: Severity;
  checks: number;
  failed: number;
  findings: number;
  clusters: number;
}

export function aggregatePolicies(clusters: readonly ClusterReport[]): PolicyAggregate[] {
  const by = new Map<string, PolicyAggregate>();
  for (const c of clusters) {
    for (const [id, t] of Object.entries(c.policies)) {
      let a = by.get(id);
      if (!a) by.set(id, (a = { policy: id, severity: t.severity, checks: 0, failed: 0, findings: 0, clusters: 0 }));
      a.checks += t.checks;
      a.failed += t.failed;
      if (t.failed) a.clusters++;
    }
    for (const f of c.findings) {
      const a = by.get(f.policy);
      if (a) a.findings++;
    }
  }
  return [...by.values()].sort(
    (a, b) => b.failed * SEVERITY_WEIGHT[b.severity] - a.failed * SEVERITY_WEIGHT[a.severity] || (a.policy < b.policy ? -1 : 1),
  );
}

export interface DriftAggregate {
  resource: string;
  state: string;
  clusters: number;
}

export function aggregateDrift(clusters: readonly ClusterReport[]): DriftAggregate[] {
  const by = new Map<string, DriftAggregate>();
  for (const c of clusters)
    for (const d of c.drift) {
      const key = `${d.state} ${describeRef(d.resource)}`;
      let a = by.get(key);
      if (!a) by.set(key, (a = { resource: describeRef(d.resource), state: d.state, clusters: 0 }));
      a.clusters++;
    }
  return [...by.values()].sort((a, b) => b.clusters - a.clusters || (a.resource < b.resource ? -1 : 1));
}

export function byRegion(clusters: readonly ClusterReport[], label = 'region'): { region: string; score: number; clusters: number }[] {
  const by = new Map<string, number[]>();
  for (const c of clusters) {
    if (c.score === null) continue;
    const r = c.labels[label] ?? '(none)';
    let l = by.get(r);
    if (!l) by.set(r, (l = []));
    l.push(c.score);
  }
  return [...by.entries()]
    .map(([region, s]) => ({ region, score: round1(s.reduce((x, y) => x + y, 0) / s.length), clusters: s.length }))
    .sort((a, b) => a.score - b.score || (a.region < b.region ? -1 : 1));
}

function bar(score: number, width = 20): string {
  const n = Math.round((score / 100) * width);
  return '█'.repeat(n) + '░'.repeat(width - n);
}

function fmtValue(v: unknown): string {
  const s = v === undefined ? 'null' : JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

export function formatPretty(report: FleetReport, paint: Paint, opts: { details?: number; top?: number } = {}): string {
  const details = opts.details ?? 5;
  const top = opts.top ?? 10;
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
  const width = Math.max(8, ...report.clusters.map((c) => c.name.length));
  for (const c of worstFirst(report.clusters)) {
    if (c.score === null) {
      out.push(`  ${c.name.padEnd(width)}  ${paint(RED, c.status.padEnd(5))}  ${c.error ?? ''}`);
      continue;
    }
    const missing = c.drift.filter((d) => d.state === 'missing').length;
    const modified = c.drift.filter((d) => d.state === 'modified').length;
    const unmanaged = c.drift.filter((d) => d.state === 'unmanaged').length;
    out.push(
      `  ${c.name.padEnd(width)}  ${paint(tint(c.score), c.score.toFixed(1).padStart(5))}  ${paint(tint(c.score), bar(c.score))}  ` +
        `in sync ${c.inSync}/${c.desired}, ${missing} missing, ${modified} modified${unmanaged ? `, ${unmanaged} unmanaged` : ''}; ${c.findings.length} findings`,
    );
  }
  const pols = aggregatePolicies(report.clusters).filter((p) => p.failed > 0).slice(0, top);
  if (pols.length) {
    out.push('', paint(BOLD, 'Top failing policies'));
    const pw = Math.max(...pols.map((p) => p.policy.length));
    for (const p of pols)
      out.push(
        `  ${p.policy.padEnd(pw)}  ${p.severity.padEnd(8)}  ${p.failed}/${p.checks} checks failed in ${p.clusters} cluster${p.clusters === 1 ? '' : 's'}`,
      );
  }
  const drift = aggregateDrift(report.clusters).slice(0, top);
  if (drift.length) {
    out.push('', paint(BOLD, 'Top drift'));
    for (const d of drift) out.push(`  ${d.state.padEnd(9)}  ${d.resource}  in ${d.clusters} cluster${d.clusters === 1 ? '' : 's'}`);
  }
  out.push(...rolloutsPretty(report.rollouts, paint));
  const worst = worstFirst(report.clusters).filter((c) => c.score !== null && (c.drift.length || c.findings.length)).slice(0, details);
  for (const c of worst) {
    out.push('', paint(BOLD, `${c.name}`) + paint(DIM, `  (${Object.entries(c.labels).map(([k, v]) => `${k}=${v}`).join(', ')}; layers: ${c.layers.join(', ')})`));
    for (const d of c.drift.slice(0, 10)) {
      out.push(`  ${paint(d.state === 'missing' ? RED : YELLOW, d.state.padEnd(9))}  ${describeRef(d.resource)}`);
      for (const diff of d.diffs.slice(0, 5)) out.push(paint(DIM, `      ${diff.path}: desired ${fmtValue(diff.desired)}, live ${fmtValue(diff.live)}`));
      if (d.diffs.length > 5) out.push(paint(DIM, `      … ${d.diffs.length - 5} more`));
    }
    if (c.drift.length > 10) out.push(paint(DIM, `  … ${c.drift.length - 10} more drifted objects`));
    for (const f of mostSevereFirst(c.findings).slice(0, 10))
      out.push(`  ${paint(CYAN, f.policy)} ${paint(DIM, `[${f.severity}/${f.action}]`)} ${describeRef(f.resource)}: ${f.message}`);
    if (c.findings.length > 10) out.push(paint(DIM, `  … ${c.findings.length - 10} more findings`));
  }
  out.push('');
  return out.join('\n');
}

/** wg-policy PolicyReport (per namespace) and ClusterPolicyReport (cluster-scoped resources) per cluster, as YAML documents. */
export function formatPolicyReport(report: FleetReport): string {
  const docs: unknown[] = [];
  const sev = (s: Severity) => (s === 'critical' ? 'critical' : s);
  for (const c of report.clusters) {
    const byNs = new Map<string, unknown[]>();
    const push = (ns: string, r: unknown) => {
      let l = byNs.get(ns);
      if (!l) byNs.set(ns, (l = []));
      l.push(r);
    };
    const scoped = (f: Finding) => f.resource.namespace ?? '';
    for (const f of c.findings) {
      push(scoped(f), {
        source: 'fleetgate',
        policy: f.policy,
        result: f.error ? 'error' : f.action === 'audit' ? 'warn' : 'fail',
        severity: sev(f.severity),
        message: f.message,
        category: f.policy.split('.')[0],
        resources: [{ apiVersion: f.resource.apiVersion, kind: f.resource.kind, name: f.resource.name, ...(f.resource.namespace ? { namespace: f.resource.namespace } : {}) }],
        properties: { path: f.path, action: f.action },
        scored: true,
      });
    }
    for (const d of c.drift) {
      push(d.resource.namespace ?? '', {
        source: 'fleetgate',
        policy: `fleetgate.drift`,
        rule: d.state,
        result: 'fail',
        severity: 'medium',
        message: d.state === 'modified' ? `differs from the config repo at ${d.diffs.map((x) => x.path).join(', ')}` : d.state === 'missing' ? 'declared in the config repo but not live' : 'live but not declared in the config repo',
        category: 'drift',
        resources: [{ ...d.resource }],
        scored: true,
      });
    }
    const passed = Object.values(c.policies).reduce((s, t) => s + t.checks - t.failed, 0) + c.inSync;
    const meta = (name: string, ns?: string) => ({
      name,
      ...(ns ? { namespace: ns } : {}),
      labels: { 'app.kubernetes.io/managed-by': 'fleetgate', 'fleetgate.io/cluster': c.name },
      annotations: { 'fleetgate.io/score': c.score === null ? c.status : String(c.score) },
    });
    const summary = (results: { result: string }[], pass: number) => ({
      pass,
      fail: results.filter((r) => r.result === 'fail').length,
      warn: results.filter((r) => r.result === 'warn').length,
      error: results.filter((r) => r.result === 'error').length + (c.status === 'ok' ? 0 : 1),
      skip: 0,
    });
    const clusterResults = (byNs.get('') ?? []) as { result: string }[];
    docs.push({
      apiVersion: 'wgpolicyk8s.io/v1alpha2',
      kind: 'ClusterPolicyReport',
      metadata: meta(`fleetgate-${c.name}`),
      scope: { apiVersion: 'v1', kind: 'Cluster', name: c.name },
      summary: summary(clusterResults, passed),
      results: c.status === 'ok' ? clusterResults : [{ source: 'fleetgate', policy: 'fleetgate.scan', result: 'error', message: `${c.status}: ${c.error ?? ''}` }],
    });
    for (const ns of [...byNs.keys()].filter((n) => n).sort()) {
      const results = byNs.get(ns) as { result: string }[];
      docs.push({
        apiVersion: 'wgpolicyk8s.io/v1alpha2',
        kind: 'PolicyReport',
        metadata: meta(`fleetgate-${c.name}`, ns),
        summary: summary(results, 0),
        results,
      });
    }
  }
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n');
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
