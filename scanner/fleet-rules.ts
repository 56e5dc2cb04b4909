import { evaluateFleet, fleetPolicyApplies, isFleetPolicy, keepForFleet, resolveAction, type ClusterContext, type FleetFinding, type FleetRuleResult } from '../src/engine/index.js';
import type { Policy } from '../src/authoring/index.js';
import type { Action, KubeObject } from '../src/model/index.js';
import { describeRef } from '../src/model/index.js';
import { BOLD, CYAN, DIM, GREEN, RED, YELLOW, sortFindings, type Paint } from '../src/report/index.js';
import type { ClusterReport, FleetReport } from './scan.js';
import { identityOfRef, rescoreForFleet, scoreOf, type ObjectScoreParts } from './score.js';

/**
 * Fleet-scope policies in the scan: each cluster keeps a small index of the objects those policies declare
 * (`fleetIndex` in its report, so `scan merge` can re-run them over shards), and once every cluster is read the
 * rules run over the whole fleet. Their findings join the findings of the cluster that holds the offending resource
 * and count in its score; a rule's `unknown` clusters are reported beside it, never as a pass.
 */

/** What a shard report carries for the merge to re-run fleet rules: fleet.yaml's fleet-wide parameters and actions. */
export interface FleetRulesContext {
  parameters: Record<string, unknown>;
  actions: Record<string, Action>;
}

/** The objects of a cluster that fleet policies need, without what they never read (status, managedFields, last-applied). */
export function fleetIndexOf(objects: readonly KubeObject[], policies: readonly Policy[]): KubeObject[] | undefined {
  if (!policies.some(isFleetPolicy)) return undefined;
  const keep = keepForFleet(policies);
  return objects.filter(keep).map(slim);
}

function slim(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  const meta = { ...(o.metadata ?? {}) } as Record<string, unknown>;
  delete meta.managedFields;
  const annotations = meta.annotations as Record<string, string> | undefined;
  if (annotations && 'kubectl.kubernetes.io/last-applied-configuration' in annotations) {
    const { 'kubectl.kubernetes.io/last-applied-configuration': _last, ...other } = annotations;
    meta.annotations = other;
  }
  return { ...rest, metadata: meta } as KubeObject;
}

/** Each fleet policy's action on a cluster, from its cluster context (rollouts and overrides included). */
export function fleetActionsOf(policies: readonly Policy[], ctx: ClusterContext, own: Record<string, Action> = {}): Record<string, { action: Action; from: string }> {
  const out: Record<string, { action: Action; from: string }> = {};
  for (const [pattern, action] of Object.entries(own)) out[pattern] = { action, from: 'override' };
  for (const p of policies.filter(isFleetPolicy)) out[p.id] ??= { action: resolveAction(p, ctx.actions), from: 'effective' };
  return out;
}

/** Runs the fleet policies over the clusters' indexes; adds their findings to the clusters and rescores them. */
export function applyFleetRules(clusters: ClusterReport[], policies: readonly Policy[], context: FleetRulesContext): FleetRuleResult[] {
  // Fleet rules run on the main thread over every cluster's index; users' policies never do (they run sandboxed,
  // one object or cluster at a time), so a user fleet-scope policy is reported as not run rather than trusted.
  const fleetPolicies = policies.filter((p) => isFleetPolicy(p) && !p.file);
  const untrusted: FleetRuleResult[] = policies
    .filter((p) => isFleetPolicy(p) && p.file)
    .map((p) => ({ policy: p.id, findings: 0, unknown: [], error: 'not run: fleet-scope rules run only from the built-in packs (user policies are sandboxed per cluster)' }));
  if (!fleetPolicies.length) return untrusted;
  const result = evaluateFleet(
    fleetPolicies,
    clusters.map((c) => ({
      name: c.name,
      labels: c.labels,
      status: c.status,
      ...(c.error ? { error: c.error } : {}),
      layers: c.layers,
      actions: c.fleetActions ?? {},
      objects: c.fleetIndex ?? [],
    })),
    context,
  );
  const byName = new Map(clusters.map((c) => [c.name, c]));
  for (const f of result.findings) byName.get(f.cluster)?.findings.push(f);
  for (const c of clusters) {
    if (c.score === null) continue;
    let changed = false;
    for (const p of fleetPolicies) {
      const mine = result.findings.filter((f) => f.policy === p.id && f.cluster === c.name);
      const failed = new Set(mine.map((f) => `${f.resource.kind}/${f.resource.namespace ?? ''}/${f.resource.name}`)).size;
      const checks = Math.max(result.checks[p.id]?.[c.name] ?? 0, failed);
      if (!checks) continue;
      c.policies[p.id] = { severity: p.severity, checks, failed };
      changed = true;
    }
    if (!changed) continue;
    c.findings = sortFindings(c.findings);
    const unmanaged = c.drift.filter((d) => d.state === 'unmanaged').length;
    const parts = scoreOf({ desired: c.desired, inSync: c.inSync, unmanaged }, c.policies);
    c.score = parts.score;
    c.totalWeight = parts.totalWeight;
    c.passedWeight = parts.passedWeight;
    if (typeof c.objectScore === 'number' && c.fleetIndexVerdicts) Object.assign(c, rescoreObjects(c, fleetPolicies, result.findings));
  }
  return [...result.rules, ...untrusted];
}

/** objectScore after the fleet rules: the objects of the fleet index each rule applied to, failed by its findings. */
function rescoreObjects(c: ClusterReport, fleetPolicies: readonly Policy[], findings: readonly FleetFinding[]): ObjectScoreParts {
  const rules = fleetPolicies.map((policy) => ({
    policy,
    applies: (o: KubeObject) => fleetPolicyApplies(policy, o),
    failed: new Set(findings.filter((f) => f.policy === policy.id && f.cluster === c.name).map((f) => identityOfRef(f.resource))),
  }));
  const parts = { objectScore: c.objectScore ?? 100, objectTotalWeight: c.objectTotalWeight ?? 0, objectPassedWeight: c.objectPassedWeight ?? 0 };
  return rescoreForFleet(parts, c.fleetIndexVerdicts ?? {}, c.fleetIndex ?? [], rules);
}

/** The report's fleet section: every fleet rule with its finding count and unknown clusters. */
export function withFleetRules(report: FleetReport, rules: FleetRuleResult[], deferred = false): FleetReport {
  if (!rules.length && !deferred) return report;
  return { ...report, fleetRules: deferred ? { deferred: true, rules: [] } : { rules } };
}

/** Pretty lines of the fleet section (after the clusters): each rule, its findings, what it could not judge. */
export function fleetRulesPretty(report: FleetReport, paint: Paint): string[] {
  const section = report.fleetRules;
  if (!section) return [];
  if (section.deferred) return ['', paint(BOLD, 'Fleet rules'), paint(DIM, '  deferred to "fleetgate scan merge": a shard sees part of the fleet')];
  const out = ['', paint(BOLD, 'Fleet rules')];
  const w = Math.max(...section.rules.map((r) => r.policy.length));
  for (const r of section.rules) {
    const state = r.error ? paint(RED, r.error) : r.findings ? paint(RED, `${r.findings} finding(s)`) : paint(GREEN, 'no findings');
    out.push(`  ${r.policy.padEnd(w)}  ${state}${r.unknown.length ? paint(YELLOW, `; unknown on ${r.unknown.map((u) => u.cluster).join(', ')}`) : ''}`);
  }
  const findings = report.clusters.flatMap((c) => c.findings.filter((f) => (f as { cluster?: string }).cluster));
  for (const f of findings.slice(0, 10)) out.push(`  ${paint(CYAN, f.policy)} ${(f as { cluster?: string }).cluster}: ${describeRef(f.resource)}: ${f.message}`);
  return out;
}

export function fleetRulesHtml(report: FleetReport, esc: (s: unknown) => string): string {
  const section = report.fleetRules;
  if (!section) return '';
  if (section.deferred) return '<h2>Fleet rules</h2><p>Deferred to <code>fleetgate scan merge</code>: a shard sees part of the fleet.</p>';
  const rows = section.rules
    .map((r) => `<tr><td>${esc(r.policy)}</td><td>${r.error ? `<span class="bad">${esc(r.error)}</span>` : r.findings}</td><td>${r.unknown.map((u) => `${esc(u.cluster)}: ${esc(u.reason)}`).join('<br>')}</td></tr>`)
    .join('');
  const findings = report.clusters
    .flatMap((c) => c.findings.filter((f) => (f as { cluster?: string }).cluster).map((f) => ({ c: c.name, f })))
    .map(({ c, f }) => `<tr><td>${esc(f.policy)}</td><td>${esc(c)}</td><td>${esc(describeRef(f.resource))}</td><td>${esc(f.message)}</td></tr>`)
    .join('');
  return `<h2>Fleet rules</h2><table><tr><th>rule</th><th>findings</th><th>unknown (clusters that could not be read)</th></tr>${rows}</table>${findings ? `<table><tr><th>rule</th><th>cluster</th><th>resource</th><th>finding</th></tr>${findings}</table>` : ''}`;
}
