import { stringify } from 'yaml';
import type { Finding, Severity } from '../src/index.js';
import type { ClusterReport, FleetReport } from './scan.js';

/**
 * The scan as policy-report objects, one set per cluster, in either API the ecosystem reads:
 * - `policyreport`: wg-policy `wgpolicyk8s.io/v1alpha2` PolicyReport / ClusterPolicyReport (Kyverno ≤ 1.13,
 *   Policy Reporter, Kubewarden's audit scanner before OpenReports);
 * - `openreports`: `openreports.io/v1alpha1` Report / ClusterReport, the successor those tools moved to.
 *
 * A cluster gets a ClusterPolicyReport (ClusterReport) for findings on cluster-scoped objects (Namespaces,
 * ClusterRoleBindings, …) and a PolicyReport (Report) in each namespace with findings, holding that namespace's
 * results only. The reports carry no `scope`: they are about a whole cluster or namespace, not one object (the
 * schema's scope is a reference to a real object; each result names its resource instead). The `summary` counts
 * exactly the `results` — with `passes`, each policy that passed checks gets one `pass` result per report saying
 * how many (the engine counts checks per policy, not per resource).
 */
export type ReportApi = 'policyreport' | 'openreports';

export interface ReportOptions {
  /** Also write `pass` results (one per policy and report, with the number of checks passed). */
  passes?: boolean;
}

type Obj = Record<string, unknown>;
interface Result {
  source: string;
  policy: string;
  rule?: string;
  result: 'pass' | 'fail' | 'warn' | 'error' | 'skip';
  severity?: string;
  message: string;
  category?: string;
  resources?: Obj[];
  properties?: Record<string, string>;
  scored?: boolean;
}

export const SOURCE = 'fleetgate';
const API = {
  policyreport: { apiVersion: 'wgpolicyk8s.io/v1alpha2', cluster: 'ClusterPolicyReport', namespaced: 'PolicyReport' },
  openreports: { apiVersion: 'openreports.io/v1alpha1', cluster: 'ClusterReport', namespaced: 'Report' },
} as const;

/**
 * wg-policy's published v1alpha2 ClusterPolicyReport knows the severities high, medium and low only: critical is
 * written as high there, with the real severity in the result's properties. OpenReports knows critical.
 */
function severityFor(api: ReportApi, s: Severity): { severity: string; properties?: Record<string, string> } {
  if (api === 'policyreport' && s === 'critical') return { severity: 'high', properties: { severity: 'critical' } };
  return { severity: s };
}

function findingResult(api: ReportApi, f: Finding): Result {
  const sev = severityFor(api, f.severity);
  return {
    source: SOURCE,
    policy: f.policy,
    // audit findings are enforced nowhere: a warning in report terms; deny and warn findings are failed checks.
    result: f.error ? 'error' : f.action === 'audit' ? 'warn' : 'fail',
    severity: sev.severity,
    message: f.message,
    category: f.policy.split('.')[0],
    resources: [ref(f.resource)],
    properties: { path: f.path, action: f.action, ...sev.properties },
    scored: true,
  };
}

function ref(r: { apiVersion: string; kind: string; namespace?: string; name: string }): Obj {
  return { apiVersion: r.apiVersion, kind: r.kind, name: r.name, ...(r.namespace ? { namespace: r.namespace } : {}) };
}

function driftResult(d: ClusterReport['drift'][number]): Result {
  return {
    source: SOURCE,
    policy: 'fleetgate.drift',
    rule: d.state,
    result: 'fail',
    severity: 'medium',
    message:
      d.state === 'modified'
        ? `differs from the config repo at ${d.diffs.map((x) => x.path).join(', ')}`
        : d.state === 'missing'
          ? 'declared in the config repo but not live'
          : 'live but not declared in the config repo',
    category: 'drift',
    resources: [ref(d.resource)],
    scored: true,
  };
}

function summary(results: readonly Result[]): Record<string, number> {
  const count = (r: Result['result']) => results.filter((x) => x.result === r).length;
  return { pass: count('pass'), fail: count('fail'), warn: count('warn'), error: count('error'), skip: count('skip') };
}

/** Report name for a cluster: one object per cluster (and namespace), stable across runs so an apply replaces it. */
export function reportName(cluster: string): string {
  return `fleetgate-${cluster}`.toLowerCase().replace(/[^a-z0-9.-]/g, '-').slice(0, 253);
}

/** The report objects of one cluster: its cluster report first, then one per namespace (sorted). */
export function clusterReports(c: ClusterReport, api: ReportApi, opts: ReportOptions = {}): Obj[] {
  const { apiVersion, cluster: clusterKind, namespaced } = API[api];
  const byNs = new Map<string, Result[]>();
  const push = (ns: string, r: Result) => {
    let l = byNs.get(ns);
    if (!l) byNs.set(ns, (l = []));
    l.push(r);
  };
  if (c.status !== 'ok') push('', { source: SOURCE, policy: 'fleetgate.scan', result: 'error', message: `${c.status}: ${c.error ?? ''}` });
  for (const f of c.findings) push(f.resource.namespace ?? '', findingResult(api, f));
  for (const d of c.drift) push(d.resource.namespace ?? '', driftResult(d));
  if (opts.passes && c.status === 'ok') {
    for (const [policy, t] of Object.entries(c.policies)) {
      const passed = t.checks - t.failed;
      if (passed <= 0) continue;
      const sev = severityFor(api, t.severity);
      push('', {
        source: SOURCE,
        policy,
        result: 'pass',
        severity: sev.severity,
        message: `${passed} of ${t.checks} checks passed`,
        category: policy.split('.')[0],
        properties: { checks: String(t.checks), passed: String(passed), ...sev.properties },
        scored: true,
      });
    }
    if (c.inSync) push('', { source: SOURCE, policy: 'fleetgate.drift', rule: 'in-sync', result: 'pass', severity: 'medium', message: `${c.inSync} of ${c.desired} desired objects in sync`, category: 'drift', scored: true });
  }
  const meta = (ns?: string) => ({
    name: reportName(c.name),
    ...(ns ? { namespace: ns } : {}),
    labels: { 'app.kubernetes.io/managed-by': SOURCE, 'fleetgate.io/cluster': c.name },
    annotations: { 'fleetgate.io/score': c.score === null ? c.status : String(c.score) },
  });
  const doc = (kind: string, results: Result[], ns?: string): Obj => ({
    apiVersion,
    kind,
    metadata: meta(ns),
    ...(api === 'openreports' ? { source: SOURCE } : {}),
    summary: summary(results),
    results,
  });
  const docs = [doc(clusterKind, byNs.get('') ?? [])];
  for (const ns of [...byNs.keys()].filter((n) => n).sort()) docs.push(doc(namespaced, byNs.get(ns)!, ns));
  return docs;
}

/** Every cluster's reports as YAML documents. */
export function formatReports(report: FleetReport, api: ReportApi, opts: ReportOptions = {}): string {
  return report.clusters
    .flatMap((c) => clusterReports(c, api, opts))
    .map((d) => stringify(d, { lineWidth: 0 }))
    .join('---\n');
}
