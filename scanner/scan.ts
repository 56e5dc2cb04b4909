import { stat } from 'node:fs/promises';
import { POD_CONTROLLER_KINDS, groupOf, identityOf, loadPaths, matchesConditions, type Action, type ClusterContext, type Finding, type KubeObject, type Policy } from '../src/index.js';
import { createEvaluator, isFleetPolicy, type FleetRuleResult, actionMap, effectiveActions, isExceptionObject, isRolloutObject, rolloutsAmong, type Evaluator, type PolicyRollout } from '../src/engine/index.js';
import { sortFindings } from '../src/report/index.js';
import { DesiredState } from './desired.js';
import { computeDrift, type DriftEntry } from './drift.js';
import type { Fleet, FleetCluster } from './fleet.js';
import { ClusterReadError } from './live/errors.js';
import { mapWithConcurrency } from './live/pool.js';
import { redactIfSecret, redactText } from './live/redact.js';
import { applyFleetRules, fleetActionsOf, fleetIndexOf, type FleetRulesContext } from './fleet-rules.js';
import { rolloutProgress, type RolloutProgress } from './rollouts.js';
import { fleetObjectScore, fleetScore, ObjectTally, scoreOf, tallyObjects, tallyPolicies, type ObjectVerdict, type PolicyTally } from './score.js';
import { dedupeFindings } from '../src/index.js';
import { nowMs, type Tracer } from '../webhook/otlp.js';
import { ScanTrace } from './scan-trace.js';
import { summaryOf, type ClusterSummary } from './judged.js';

export type ClusterStatus = 'ok' | 'unreachable' | 'error';

export interface ClusterReport {
  name: string;
  /** Position in the fleet file (merge keeps fleet order across shards). */
  index: number;
  labels: Record<string, string>;
  status: ClusterStatus;
  error?: string;
  score: number | null;
  /** Per-object score (scanner/score.ts ObjectTally): each judged object once, by its worst policy; null when not scored. */
  objectScore?: number | null;
  objectTotalWeight?: number;
  objectPassedWeight?: number;
  /** Layers that made up the desired state. */
  layers: string[];
  /** Desired objects; in-sync ones are counted, not listed. */
  desired: number;
  inSync: number;
  /** Live objects read. */
  objects: number;
  totalWeight: number;
  passedWeight: number;
  drift: DriftEntry[];
  findings: Finding[];
  /** Per policy: severity, checks (resources it applied to) and failed checks. */
  policies: Record<string, PolicyTally>;
  waived: number;
  /** Objects a policy's exemption (Pod Security's exempt namespaces, users, runtime classes) kept out; set when > 0. */
  exempt?: number;
  warnings: string[];
  /** Objects fleet-scope policies need from this cluster (kept in shard reports so `scan merge` can judge the fleet). */
  fleetIndex?: KubeObject[];
  /** Fleet policies' actions on this cluster and the cluster's own overrides (shard reports only). */
  fleetActions?: Record<string, { action: Action; from: string }>;
  /** Per-object verdicts of the fleet index's objects, for fleet rules to adjust objectScore (shard reports only). */
  fleetIndexVerdicts?: Record<string, ObjectVerdict>;
}

export interface FleetReport {
  score: number | null;
  /** Mean of the clusters' objectScore. */
  objectScore?: number | null;
  fleet: string;
  shard?: { index: number; count: number };
  summary: { clusters: number; scored: number; unreachable: number; error: number };
  clusters: ClusterReport[];
  /** Progress of the config repo's PolicyRollouts across the fleet (when it has any). */
  rollouts?: RolloutProgress[];
  /** Fleet-scope rules: each with its finding count and the clusters it could not judge (`deferred` in a shard: `scan merge` runs them). */
  fleetRules?: { deferred?: boolean; rules: FleetRuleResult[] };
  /** Fleet-wide parameters and actions, in shard reports, for `scan merge` to run the fleet rules with. */
  fleetContext?: FleetRulesContext;
}

/** A fleet report without its clusters: what the report writers need besides the clusters streaming by. */
export type FleetHead = Omit<FleetReport, 'clusters'>;

export interface LiveState {
  objects: KubeObject[];
  warnings: string[];
}

/** Where a cluster's live state comes from. Pluggable so tests can inject a failing or slow source. */
export type ClusterSource = (
  cluster: FleetCluster,
  ctx: { kinds: { apiVersion: string; kind: string }[]; timeoutMs: number; signal?: AbortSignal; allowExecPlugins?: readonly string[] },
) => Promise<LiveState>;

/**
 * Reads a snapshot folder (as `kubectl get -o yaml|json` writes it); a folder that does not exist is `unreachable`.
 * `readSync`: read its files synchronously (LoadOptions.readSync) — the scan, which is CPU-bound and has nothing
 * else for its event loop to do; the watch, a server, reads them the asynchronous way.
 */
export async function readSnapshot(dir: string, { readSync = false } = {}): Promise<LiveState> {
  try {
    if (!(await stat(dir)).isDirectory()) throw new ClusterReadError(`snapshot ${dir} is not a folder`, 'error');
  } catch (err) {
    if (err instanceof ClusterReadError) throw err;
    throw new ClusterReadError(`snapshot folder ${dir} cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)})`, 'unreachable');
  }
  const loaded = await loadPaths([dir], { positions: false, readSync });
  if (loaded.errors.length) {
    const e = loaded.errors[0];
    throw new ClusterReadError(
      `snapshot has ${loaded.errors.length} unreadable document(s); first: ${e.file}${e.line ? `:${e.line}` : ''}: ${e.message}`,
      'error',
    );
  }
  // the same redaction as a live read: Secret values never go further than this
  return { objects: loaded.resources.map((r) => redactIfSecret(r.object)), warnings: [] };
}

export const defaultSource: ClusterSource = async (cluster, ctx) => {
  if ('snapshot' in cluster.source) return readSnapshot(cluster.source.snapshot, { readSync: true });
  // The live reader (and @kubernetes/client-node under it) is loaded only for a fleet that has live clusters.
  const { readLiveCluster } = await import('./live/index.js');
  return readLiveCluster({
    kubeconfig: cluster.source.kubeconfig,
    context: cluster.source.context,
    kinds: ctx.kinds,
    timeoutMs: ctx.timeoutMs,
    signal: ctx.signal,
    allowExecPlugins: ctx.allowExecPlugins,
  });
};

/** apiVersions for the kinds policies name without a version (live lists need one). */
const KNOWN_VERSIONS: Record<string, string> = {
  Namespace: 'v1',
  Pod: 'v1',
  ResourceQuota: 'v1',
  LimitRange: 'v1',
  ServiceAccount: 'v1',
  ConfigMap: 'v1',
  Service: 'v1',
  ReplicationController: 'v1',
  Deployment: 'apps/v1',
  StatefulSet: 'apps/v1',
  DaemonSet: 'apps/v1',
  ReplicaSet: 'apps/v1',
  Job: 'batch/v1',
  CronJob: 'batch/v1',
  // practices.pod-disruption-budget, and upgrade.* (served in the current version; last-applied-configuration tells the applied one)
  PodDisruptionBudget: 'policy/v1',
  HorizontalPodAutoscaler: 'autoscaling/v2',
  Ingress: 'networking.k8s.io/v1',
  NetworkPolicy: 'networking.k8s.io/v1',
  Role: 'rbac.authorization.k8s.io/v1',
  RoleBinding: 'rbac.authorization.k8s.io/v1',
  ClusterRole: 'rbac.authorization.k8s.io/v1',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1',
  'networking.istio.io/ServiceEntry': 'networking.istio.io/v1beta1',
  'networking.istio.io/DestinationRule': 'networking.istio.io/v1beta1',
  'networking.istio.io/VirtualService': 'networking.istio.io/v1beta1',
  'networking.istio.io/Gateway': 'networking.istio.io/v1beta1',
  'networking.istio.io/Sidecar': 'networking.istio.io/v1beta1',
  'security.istio.io/PeerAuthentication': 'security.istio.io/v1beta1',
  'security.istio.io/AuthorizationPolicy': 'security.istio.io/v1beta1',
  'security.istio.io/RequestAuthentication': 'security.istio.io/v1beta1',
  'fleetgate.io/PolicyException': 'fleetgate.io/v1alpha1',
};
const ISTIO_KIND_GROUP: Record<string, string> = {
  ServiceEntry: 'networking.istio.io',
  DestinationRule: 'networking.istio.io',
  VirtualService: 'networking.istio.io',
  Gateway: 'networking.istio.io',
  Sidecar: 'networking.istio.io',
  PeerAuthentication: 'security.istio.io',
  AuthorizationPolicy: 'security.istio.io',
  RequestAuthentication: 'security.istio.io',
};

/** Kinds to read from a live cluster: what the repo declares, what policies match (Pod → pod controllers too), and owned kinds. */
export function kindsToRead(policies: readonly Policy[], desired: Iterable<KubeObject>, owned: readonly string[]): { apiVersion: string; kind: string }[] {
  const out = new Map<string, { apiVersion: string; kind: string }>();
  const add = (qualified: string) => {
    const slash = qualified.lastIndexOf('/');
    const kind = slash < 0 ? qualified : qualified.slice(slash + 1);
    const group = slash < 0 ? (ISTIO_KIND_GROUP[kind] ?? undefined) : qualified.slice(0, slash);
    const key = group ? `${group}/${kind}` : kind;
    const apiVersion = KNOWN_VERSIONS[key] ?? KNOWN_VERSIONS[kind];
    if (!apiVersion) return; // unknown CRD without a version: the repo declaring one gives it
    const id = `${groupOf(apiVersion)}/${kind}`;
    if (!out.has(id)) out.set(id, { apiVersion, kind });
  };
  for (const o of desired) {
    if (typeof o.kind !== 'string' || typeof o.apiVersion !== 'string') continue;
    const id = `${groupOf(o.apiVersion)}/${o.kind}`;
    if (!out.has(id)) out.set(id, { apiVersion: o.apiVersion, kind: o.kind });
  }
  for (const p of policies) for (const k of p.match.kinds) {
    add(k);
    if (k === 'Pod') for (const c of POD_CONTROLLER_KINDS) add(c);
  }
  for (const k of owned) add(k);
  add('Namespace');
  return [...out.values()].sort((a, b) => (a.kind === b.kind ? (a.apiVersion < b.apiVersion ? -1 : 1) : a.kind < b.kind ? -1 : 1));
}

/**
 * The cluster context of fleet.yaml: fleet-wide parameters/actions, then matching overrides in order, then the
 * cluster's own. PolicyRollouts of the cluster's desired state set the action of the policies they name over the
 * fleet-wide and per-label actions; the cluster's own actions and `--action` flags still win (see effectiveActions).
 */
export function clusterContextOf(
  fleet: Fleet,
  cluster: FleetCluster,
  extraActions: Record<string, Action> = {},
  rollouts: { rollouts: readonly PolicyRollout[]; policies: readonly Policy[] } = { rollouts: [], policies: [] },
  extraParameters: Record<string, unknown> = {},
): ClusterContext {
  const parameters: Record<string, unknown> = { ...fleet.parameters };
  const actions: Record<string, Action> = { ...fleet.actions };
  for (const o of fleet.overrides) {
    if (!matchesConditions(cluster.labels, o.when)) continue;
    Object.assign(parameters, o.parameters ?? {});
    Object.assign(actions, o.actions ?? {});
  }
  Object.assign(parameters, cluster.parameters ?? {});
  // --param, last: one policy's parameters given on the command line merge into that policy's from the fleet file.
  for (const [k, v] of Object.entries(extraParameters))
    parameters[k] = isMap(v) && isMap(parameters[k]) ? { ...(parameters[k] as object), ...v } : v;
  const pinned = { ...cluster.actions, ...extraActions };
  if (!rollouts.rollouts.length) return { name: cluster.name, labels: cluster.labels, parameters, actions: { ...actions, ...pinned } };
  const effective = effectiveActions(rollouts.policies, actions, pinned, rollouts.rollouts, cluster, fleet.clusters);
  return { name: cluster.name, labels: cluster.labels, parameters, actions: actionMap(effective) };
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Never let a credential reach a report: bearer tokens, passwords and the like in error text are masked. */
export function redactSecrets(text: string): string {
  return redactText(text);
}

export interface ScanOptions {
  policies: readonly Policy[];
  desired: DesiredState;
  concurrency?: number;
  shard?: { index: number; count: number };
  source?: ClusterSource;
  actions?: Record<string, Action>;
  /** `--param` overrides, over every cluster's parameters from the fleet file. */
  parameters?: Record<string, unknown>;
  /** Called after each cluster (progress bar). */
  onCluster?: (done: number, total: number, cluster: ClusterSummary) => void;
  now?: Date;
  signal?: AbortSignal;
  /** OTLP traces: a span for the scan, one per cluster (off when absent). */
  tracer?: Tracer;
  /** Credential plugins allowed to run, from `--allow-exec-plugin` (the fleet file's `allowExecPlugins` are added). */
  allowExecPlugins?: readonly string[];
  /** streamScan: bytes of fleet-index records kept parsed in the fleet pass (FleetStore; default 16 MiB). */
  fleetCacheBytes?: number;
  /**
   * streamScan: judge the clusters in `jobs` worker threads (scan-pool.ts; `--jobs`). Workers cannot be handed
   * policy functions, so they load the same policies themselves: the built-in packs when `builtins`, and `paths`
   * (user policy files) as `--policies` gives them; `source` is a module whose `source` export replaces the
   * snapshot/live reader (tests). Without it, or with one job, clusters are judged on the calling thread.
   */
  workers?: WorkerPlan;
}

export interface WorkerPlan {
  jobs: number;
  policies: { builtins: boolean; paths: readonly string[] };
  source?: string;
}

/** Objects that only the config repo needs to hold (waivers, rollouts): never drift when absent from a cluster. */
function isConfigOnly(o: KubeObject): boolean {
  return isExceptionObject(o) || isRolloutObject(o);
}

/** Clusters this shard scans: every N-th one, starting at index I (0-based, as an Indexed Job's completion index). */
export function shardClusters<T>(clusters: readonly T[], shard?: { index: number; count: number }): T[] {
  if (!shard) return [...clusters];
  return clusters.filter((_, i) => i % shard.count === shard.index);
}

/** A cluster's report before anything is known of it (what a cluster that cannot be read is reported with). */
export function baseReport(cluster: FleetCluster, desired: DesiredState): ClusterReport {
  return {
    name: cluster.name,
    index: cluster.index,
    labels: cluster.labels,
    status: 'ok',
    score: null,
    objectScore: null,
    layers: desired.layerNames(cluster),
    desired: 0,
    inSync: 0,
    objects: 0,
    totalWeight: 0,
    passedWeight: 0,
    drift: [],
    findings: [],
    policies: {},
    waived: 0,
    warnings: [],
  };
}

/** Scans one cluster: read live state, drift against desired, policies on live state, score. Only the report is kept. */
export async function scanCluster(fleet: Fleet, cluster: FleetCluster, evaluator: Evaluator, opts: ScanOptions): Promise<ClusterReport> {
  const source = opts.source ?? defaultSource;
  const desired = opts.desired.for(cluster);
  const base = baseReport(cluster, opts.desired);
  let live: LiveState;
  try {
    live = await source(cluster, {
      kinds: kindsToRead(opts.policies, desired.values(), fleet.owned),
      timeoutMs: fleet.timeoutSeconds * 1000,
      signal: opts.signal,
      allowExecPlugins: [...fleet.allowExecPlugins, ...(opts.allowExecPlugins ?? [])],
    });
  } catch (err) {
    const status = err instanceof ClusterReadError ? err.status : 'error';
    return { ...base, status, error: redactSecrets(err instanceof Error ? err.message : String(err)) };
  }
  try {
    return await judgeCluster(fleet, cluster, evaluator, opts, { base, desired, live });
  } catch (err) {
    return { ...base, status: 'error', error: redactSecrets(err instanceof Error ? err.message : String(err)) };
  }
}

/** A cluster read: drift against its desired state, the policies on its live objects, its scores and fleet index. */
async function judgeCluster(
  fleet: Fleet,
  cluster: FleetCluster,
  evaluator: Evaluator,
  opts: ScanOptions,
  { base, desired, live }: { base: ClusterReport; desired: ReturnType<DesiredState['for']>; live: LiveState },
): Promise<ClusterReport> {
  const { rollouts, invalid } = rolloutsAmong(desired.values());
  const ctx = clusterContextOf(fleet, cluster, opts.actions, { rollouts, policies: opts.policies }, opts.parameters);
  const fleetIndex = fleetIndexOf(live.objects, opts.policies);
  const clusterEvaluator = evaluator.forCluster(ctx);
  const sys = ctx.parameters?.systemNamespaces;
  const drift = computeDrift(desired, live.objects, fleet.owned, Array.isArray(sys) ? (sys as string[]) : undefined, isConfigOnly);
  // Waivers live in the config repo: the desired state's PolicyExceptions apply even when not applied to the cluster.
  const resources = live.objects.map((object) => ({ object }));
  const liveIds = new Set<string>();
  for (const o of live.objects) if (isExceptionObject(o)) liveIds.add(`${o.metadata?.namespace}/${o.metadata?.name}`);
  for (const o of desired.values()) if (isExceptionObject(o) && !liveIds.has(`${o.metadata?.namespace}/${o.metadata?.name}`)) resources.push({ object: o });
  const evaluated = await clusterEvaluator.evaluate(resources, { now: opts.now });
  // One finding per offending field (src/dedupe.ts): before tallying, so scores count the field once.
  const evaluation = { ...evaluated, findings: dedupeFindings(evaluated.findings, opts.policies) };
  const objectTally = new ObjectTally();
  const tallies = tallyPolicies(opts.policies, clusterEvaluator, evaluation, live.objects, objectTally);
  const parts = scoreOf(drift, tallies);
  const desiredIds = [...desired].filter(([, o]) => !isConfigOnly(o)).map(([id]) => id);
  const objectParts = tallyObjects(objectTally, opts.policies, evaluation, live.objects.filter((o) => !isExceptionObject(o)), { desiredIds, entries: drift.entries });
  return {
    ...base,
    score: parts.score,
    ...objectParts,
    desired: drift.desired,
    inSync: drift.inSync,
    objects: live.objects.length,
    totalWeight: parts.totalWeight,
    passedWeight: parts.passedWeight,
    drift: drift.entries,
    findings: sortFindings(evaluation.findings),
    ...(fleetIndex
      ? { fleetIndex, fleetActions: fleetActionsOf(opts.policies, ctx, cluster.actions), fleetIndexVerdicts: objectTally.verdictsOf(fleetIndex.map(identityOf)) }
      : {}),
    policies: tallies,
    waived: evaluation.waived,
    ...(evaluation.exempt ? { exempt: evaluation.exempt } : {}),
    warnings: [...live.warnings.map(redactSecrets), ...invalid.map((i) => `PolicyRollout ${i.object.metadata?.name ?? '?'}: ${i.message}`)],
  };
}

/**
 * Scans the fleet (or one shard of it) with at most `concurrency` clusters in flight. Each cluster's live objects
 * are dropped as soon as its report is made, so memory grows with the reports, not with the fleet's objects.
 */
export async function scanFleet(fleet: Fleet, opts: ScanOptions): Promise<FleetReport> {
  // Built-in policies run in-process; users' policies in a sandbox shared by every cluster of the scan.
  const evaluator = await createEvaluator(opts.policies, {}, { sandbox: { timeoutMs: 30_000 } });
  const clusters = shardClusters(fleet.clusters, opts.shard);
  let done = 0;
  const trace = opts.tracer && new ScanTrace(opts.tracer);
  const reports = await mapWithConcurrency(clusters, opts.concurrency ?? 8, async (cluster) => {
    const started = nowMs();
    const report = await scanCluster(fleet, cluster, evaluator, opts);
    trace?.cluster(summaryOf(report), started);
    done++;
    opts.onCluster?.(done, clusters.length, summaryOf(report));
    return report;
  }).finally(() => evaluator.close());
  await trace?.end(clusters.length, opts.shard);
  const report = buildFleetReport(reports, fleet.file, opts.shard, rolloutProgress(fleet, opts.desired));
  if (!opts.policies.some(isFleetPolicy)) return report;
  const context: FleetRulesContext = { parameters: fleet.parameters, actions: fleet.actions };
  // A shard sees part of the fleet: its clusters keep their index, and `scan merge` runs the fleet rules.
  if (opts.shard) return { ...report, fleetRules: { deferred: true, rules: [] }, fleetContext: context };
  return finishFleetRules(report, opts.policies, context);
}

/** Runs the fleet rules over a whole fleet's reports, then drops the indexes they needed. */
export function finishFleetRules(report: FleetReport, policies: readonly Policy[], context: FleetRulesContext): FleetReport {
  const rules = applyFleetRules(report.clusters, policies, context);
  for (const c of report.clusters) {
    delete c.fleetIndex;
    delete c.fleetActions;
    delete c.fleetIndexVerdicts;
  }
  return { ...buildFleetReport(report.clusters, report.fleet, report.shard, report.rollouts), fleetRules: { rules } };
}

export function buildFleetReport(clusters: ClusterReport[], fleet: string, shard?: { index: number; count: number }, rollouts?: RolloutProgress[]): FleetReport {
  return {
    score: fleetScore(clusters),
    objectScore: fleetObjectScore(clusters),
    fleet,
    ...(shard ? { shard } : {}),
    summary: {
      clusters: clusters.length,
      scored: clusters.filter((c) => c.score !== null).length,
      unreachable: clusters.filter((c) => c.status === 'unreachable').length,
      error: clusters.filter((c) => c.status === 'error').length,
    },
    clusters,
    ...(rollouts?.length ? { rollouts } : {}),
  };
}
