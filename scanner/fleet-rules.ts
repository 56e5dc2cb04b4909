import { evaluateFleet, fleetPolicyApplies, fleetProjection, isFleetPolicy, resolveAction, type ClusterContext, type FleetClusterInput, type FleetEvaluation, type FleetFinding, type FleetLocate, type FleetRuleResult } from '../src/engine/index.js';
import type { Policy } from '../src/authoring/index.js';
import type { Action, Finding, KubeObject } from '../src/model/index.js';
import { describeRef } from '../src/model/index.js';
import { BOLD, CYAN, DIM, GREEN, RED, YELLOW, sortFindings, type Paint } from '../src/report/index.js';
import type { ClusterReport, FleetReport } from './scan.js';
import { fleetRuleVerdicts, identityOfRef, rescoreWithFleetVerdicts, round1, scoreOf, SEVERITY_WEIGHT, type ObjectVerdict, type PolicyTally } from './score.js';
import type { Interner } from './intern.js';

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

/**
 * The objects of a cluster that fleet policies need, with only the fields they read (their `reads`), and never what
 * no rule reads: status, and the metadata the API server fills in (uid, resourceVersion, creationTimestamp,
 * generation, managedFields, the last-applied annotation). With an `interner`, equal objects (and parts of objects)
 * of different clusters are kept once.
 */
export function fleetIndexOf(objects: readonly KubeObject[], policies: readonly Policy[], interner?: Interner): KubeObject[] | undefined {
  if (!policies.some(isFleetPolicy)) return undefined;
  const part = fleetProjection(policies);
  const out: KubeObject[] = [];
  for (const o of objects) {
    const kept = part(o);
    if (!kept) continue;
    const small = kept === o ? slim(o) : kept;
    out.push(interner ? interner.value(small) : small);
  }
  return out;
}

const SERVER_METADATA = ['managedFields', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink'];

/** Without what no fleet rule reads (status, server-filled metadata, last-applied); the watch keeps its fleet objects so. */
export function slimForFleet(o: KubeObject): KubeObject {
  return slim(o);
}

function slim(o: KubeObject): KubeObject {
  const { status: _status, ...rest } = o;
  const meta = { ...(o.metadata ?? {}) } as Record<string, unknown>;
  for (const k of SERVER_METADATA) delete meta[k];
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

/** One cluster as the fleet rules need it: the report without its findings and drift, and the small index. */
export function fleetMemberOf(c: ClusterReport): FleetClusterInput {
  return {
    name: c.name,
    labels: c.labels,
    status: c.status,
    ...(c.error ? { error: c.error } : {}),
    layers: c.layers,
    actions: c.fleetActions ?? {},
    objects: c.fleetIndex ?? [],
  };
}

/** What the fleet rules found, ready to be added cluster by cluster (applyFleetResult). */
export interface FleetResult {
  rules: FleetRuleResult[];
  policies: Policy[];
  findings: Map<string, FleetFinding[]>;
  checks: Record<string, Record<string, number>>;
  /** Per cluster, what the rules say of its fleet-index objects (fleetRuleVerdicts): how objectScore is rescored. */
  objects: Map<string, ReadonlyMap<string, ObjectVerdict>>;
}

/**
 * Runs the fleet policies over every cluster's index (the whole fleet must have been read). Shared by the scan,
 * `scan merge` and `lint --fleet` (whose `locate` points findings back at the config repo's lines).
 */
export function runFleetRules(
  members: readonly FleetClusterInput[],
  policies: readonly Policy[],
  context: FleetRulesContext,
  locate?: FleetLocate,
  /** Takes each member's object verdicts as they are made instead of keeping them all in `objects` (the streamed scan). */
  onVerdicts?: (member: number, verdicts: ReadonlyMap<string, ObjectVerdict>) => void,
): FleetResult {
  // Fleet rules run on the main thread over every cluster's index; users' policies never do (they run sandboxed,
  // one object or cluster at a time), so a user fleet-scope policy is reported as not run rather than trusted.
  const fleetPolicies = policies.filter((p) => isFleetPolicy(p) && !p.file);
  const untrusted: FleetRuleResult[] = policies
    .filter((p) => isFleetPolicy(p) && p.file)
    .map((p) => ({ policy: p.id, findings: 0, unknown: [], error: 'not run: fleet-scope rules run only from the built-in packs (user policies are sandboxed per cluster)' }));
  if (!fleetPolicies.length) return { rules: untrusted, policies: [], findings: new Map(), checks: {}, objects: new Map() };
  const result = evaluateFleet(fleetPolicies, members, { ...context, ...(locate ? { locate } : {}) });
  const findings = new Map<string, FleetFinding[]>();
  for (const f of result.findings) (findings.get(f.cluster) ?? findings.set(f.cluster, []).get(f.cluster)!).push(f);
  const objects = new Map<string, ReadonlyMap<string, ObjectVerdict>>();
  for (const [i, m] of members.entries()) {
    const mine = findings.get(m.name) ?? [];
    const rules = fleetPolicies.map((policy) => ({
      policy,
      applies: (o: KubeObject) => fleetPolicyApplies(policy, o),
      failed: new Set(mine.filter((f) => f.policy === policy.id).map((f) => identityOfRef(f.resource))),
    }));
    const verdicts = fleetRuleVerdicts(m.objects, rules);
    if (onVerdicts) onVerdicts(i, verdicts);
    else if (verdicts.size) objects.set(m.name, verdicts);
  }
  return { rules: [...result.rules, ...untrusted], policies: fleetPolicies, findings, checks: result.checks, objects };
}

/**
 * Adds the fleet rules' findings on one cluster to its report (in the report's order) and rescores it.
 * `addFindings` merges them: by default into `c.findings`; a spooled report's JSON merges them into its text
 * without parsing its findings (record.ts InsertSorted).
 */
export function applyFleetResult(c: ClusterReport, result: FleetResult, addFindings: (c: ClusterReport, found: FleetFinding[]) => void = mergeFindings): void {
  const mine = result.findings.get(c.name) ?? [];
  if (mine.length) addFindings(c, mine);
  if (c.score === null) return;
  const objects = objectScoreAfterFleetRules(c, result);
  if (objects) Object.assign(c, objects);
  const tallies = fleetTallies(result.policies, result.checks, c.name, mine);
  if (!Object.keys(tallies).length) return;
  Object.assign(c.policies, tallies);
  const unmanaged = c.drift.filter((d) => d.state === 'unmanaged').length;
  const parts = scoreOf({ desired: c.desired, inSync: c.inSync, unmanaged }, c.policies);
  c.score = parts.score;
  c.totalWeight = parts.totalWeight;
  c.passedWeight = parts.passedWeight;
}

function mergeFindings(c: ClusterReport, found: FleetFinding[]): void {
  c.findings = sortFindings([...c.findings, ...found]); // stable: a fleet finding goes after an equal one
}

/**
 * What a cluster's final scores need, kept while its report waits on disk: a few numbers per cluster, and the
 * object verdicts of its fleet index (the objects fleet rules may judge) for objectScore.
 */
export interface ScoreFacts {
  name: string;
  status: ClusterReport['status'];
  score: number | null;
  totalWeight: number;
  passedWeight: number;
  objectScore?: number | null;
  objectTotalWeight?: number;
  objectPassedWeight?: number;
  fleetIndexVerdicts?: ClusterReport['fleetIndexVerdicts'];
}

/**
 * The objectScore parts applyFleetResult gives a cluster, from its facts alone (undefined: unchanged — not
 * scored, or no fleet index verdicts kept): the fleet rules' verdicts folded into its fleet index's, as
 * rescoreForFleet does (integer weights, so the sums are exact in any order).
 */
export function objectScoreAfterFleetRules(f: Omit<ScoreFacts, 'status'>, result: FleetResult): ReturnType<typeof rescoreWithFleetVerdicts> | undefined {
  if (f.score === null || typeof f.objectScore !== 'number' || !f.fleetIndexVerdicts || !result.policies.length) return undefined;
  const parts = { objectTotalWeight: f.objectTotalWeight ?? 0, objectPassedWeight: f.objectPassedWeight ?? 0 };
  return rescoreWithFleetVerdicts(parts, f.fleetIndexVerdicts, result.objects.get(f.name) ?? new Map());
}

/**
 * The score applyFleetResult gives a cluster, from its facts alone: the fleet policies' checks add their weights
 * to the cluster's (weights and checks are integers, so the sums are exact in any order and match scoreOf).
 */
export function scoreAfterFleetRules(f: ScoreFacts, result: FleetResult): number | null {
  if (f.score === null || !result.policies.length) return f.score;
  const tallies = Object.values(fleetTallies(result.policies, result.checks, f.name, result.findings.get(f.name) ?? []));
  if (!tallies.length) return f.score;
  let total = f.totalWeight;
  let passed = f.passedWeight;
  for (const t of tallies) {
    total += t.checks * SEVERITY_WEIGHT[t.severity];
    passed += (t.checks - t.failed) * SEVERITY_WEIGHT[t.severity];
  }
  return total === 0 ? 100 : round1((passed / total) * 100);
}

/** Runs the fleet policies over the clusters' indexes; adds their findings to the clusters and rescores them. */
export function applyFleetRules(clusters: ClusterReport[], policies: readonly Policy[], context: FleetRulesContext): FleetRuleResult[] {
  const result = runFleetRules(clusters.map(fleetMemberOf), policies, context);
  if (result.policies.length) for (const c of clusters) applyFleetResult(c, result);
  return result.rules;
}

/**
 * A cluster's tallies of the built-in fleet policies: checks (at least the resources they failed) and failed
 * resources, as its score weighs them. Shared by the scan's rescoring, the streamed scan's and the watch's metrics.
 */
export function fleetTallies(policies: readonly Policy[], checks: FleetEvaluation['checks'], cluster: string, mine: readonly FleetFinding[]): Record<string, PolicyTally> {
  const out: Record<string, PolicyTally> = {};
  for (const p of policies) {
    if (!isFleetPolicy(p) || p.file) continue;
    const own = mine.filter((f) => f.policy === p.id);
    const failed = new Set(own.map((f) => `${f.resource.kind}/${f.resource.namespace ?? ''}/${f.resource.name}`)).size;
    const n = Math.max(checks[p.id]?.[cluster] ?? 0, failed);
    if (n) out[p.id] = { severity: p.severity, checks: n, failed };
  }
  return out;
}


/** The report's fleet section: every fleet rule with its finding count and unknown clusters. */
export function withFleetRules(report: FleetReport, rules: FleetRuleResult[], deferred = false): FleetReport {
  if (!rules.length && !deferred) return report;
  return { ...report, fleetRules: deferred ? { deferred: true, rules: [] } : { rules } };
}

/** Pretty lines of the fleet section (after the clusters): each rule, its findings, what it could not judge. */
export function fleetRulesPretty(section: FleetReport['fleetRules'], fleetFindings: readonly { cluster: string; finding: Finding }[], paint: Paint): string[] {
  if (!section) return [];
  if (section.deferred) return ['', paint(BOLD, 'Fleet rules'), paint(DIM, '  deferred to "fleetgate scan merge": a shard sees part of the fleet')];
  const out = ['', paint(BOLD, 'Fleet rules')];
  const w = Math.max(...section.rules.map((r) => r.policy.length));
  for (const r of section.rules) {
    const state = r.error ? paint(RED, r.error) : r.findings ? paint(RED, `${r.findings} finding(s)`) : paint(GREEN, 'no findings');
    out.push(`  ${r.policy.padEnd(w)}  ${state}${r.unknown.length ? paint(YELLOW, `; unknown on ${r.unknown.map((u) => u.cluster).join(', ')}`) : ''}`);
  }
  for (const f of fleetFindings.slice(0, 10).map((x) => x.finding)) out.push(`  ${paint(CYAN, f.policy)} ${(f as { cluster?: string }).cluster}: ${describeRef(f.resource)}: ${f.message}`);
  return out;
}

export function fleetRulesHtml(section: FleetReport['fleetRules'], fleetFindings: readonly { cluster: string; finding: Finding }[], esc: (s: unknown) => string): string {
  if (!section) return '';
  if (section.deferred) return '<h2>Fleet rules</h2><p>Deferred to <code>fleetgate scan merge</code>: a shard sees part of the fleet.</p>';
  const rows = section.rules
    .map((r) => `<tr><td>${esc(r.policy)}</td><td>${r.error ? `<span class="bad">${esc(r.error)}</span>` : r.findings}</td><td>${r.unknown.map((u) => `${esc(u.cluster)}: ${esc(u.reason)}`).join('<br>')}</td></tr>`)
    .join('');
  const findings = fleetFindings
    .map(({ cluster: c, finding: f }) => ({ c, f }))
    .map(({ c, f }) => `<tr><td>${esc(f.policy)}</td><td>${esc(c)}</td><td>${esc(describeRef(f.resource))}</td><td>${esc(f.message)}</td></tr>`)
    .join('');
  return `<h2>Fleet rules</h2><table><tr><th>rule</th><th>findings</th><th>unknown (clusters that could not be read)</th></tr>${rows}</table>${findings ? `<table><tr><th>rule</th><th>cluster</th><th>resource</th><th>finding</th></tr>${findings}</table>` : ''}`;
}
