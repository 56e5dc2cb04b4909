import { definePolicy } from '../../src/index.js';
import type { Action, Example, ObjectContext, PathSegments, Policy, PodView, Severity } from '../../src/index.js';

/**
 * What every Pod Security Standards policy shares: which level a namespace asks for (as the kube-apiserver's
 * Pod Security Admission reads it from the namespace labels), and from that the action of each finding.
 *
 * A namespace picks a level per mode with the labels
 *   pod-security.kubernetes.io/enforce: privileged | baseline | restricted   → findings at or below it: deny
 *   pod-security.kubernetes.io/warn:    privileged | baseline | restricted   → warn
 *   pod-security.kubernetes.io/audit:   privileged | baseline | restricted   → audit
 * A mode without a label takes the cluster default (parameters `defaultEnforce`, `defaultWarn`, `defaultAudit`);
 * a label with an unknown value counts as `restricted`, as upstream does. A finding takes the strongest action of
 * the modes whose level includes its check, and is not reported at all when no mode does.
 * An explicit action override (`--action pss.restricted.*=deny`, fleet.yaml, webhook config) replaces that action.
 */

export type Level = 'privileged' | 'baseline' | 'restricted';
export type CheckLevel = Exclude<Level, 'privileged'>;

export const LABEL_PREFIX = 'pod-security.kubernetes.io/';
const ENFORCE_LABEL = `${LABEL_PREFIX}enforce`;
const WARN_LABEL = `${LABEL_PREFIX}warn`;
const AUDIT_LABEL = `${LABEL_PREFIX}audit`;

/** Parameters every pss.* policy declares, so one global parameter sets them for the whole pack. */
export interface PssParams {
  [key: string]: unknown;
  /** Level enforced (deny) where a namespace has no `pod-security.kubernetes.io/enforce` label. */
  defaultEnforce: Level;
  /** Level warned about where a namespace has no `pod-security.kubernetes.io/warn` label. */
  defaultWarn: Level;
  /** Level audited where a namespace has no `pod-security.kubernetes.io/audit` label. */
  defaultAudit: Level;
  /** Namespaces the pack does not judge (upstream's `exemptions.namespaces`). */
  exemptNamespaces: string[];
  /** The system namespaces (`systemNamespaces`, or labelled fleetgate.io/system) are exempt too (default true). */
  exemptSystemNamespaces: boolean;
  /** Requests by these users are not judged at admission (upstream's `exemptions.usernames`). */
  exemptUsernames: string[];
  /** Pods with one of these `runtimeClassName`s are not judged (upstream's `exemptions.runtimeClasses`). */
  exemptRuntimeClasses: string[];
  /**
   * Deny pod templates (Deployments, CronJobs, …) like pods. Upstream only warns and audits templates and
   * enforces on the pods the controller creates; `false` does the same (an enforce finding on a template warns).
   */
  enforceOnTemplates: boolean;
}

export const PSS_DEFAULTS: PssParams = Object.freeze({
  defaultEnforce: 'baseline',
  defaultWarn: 'restricted',
  defaultAudit: 'privileged',
  exemptNamespaces: [],
  exemptSystemNamespaces: true,
  exemptUsernames: [],
  exemptRuntimeClasses: [],
  enforceOnTemplates: true,
}) as PssParams;

const RANK: Record<Level, number> = { privileged: 0, baseline: 1, restricted: 2 };

function parseLevel(value: unknown, fallback: unknown): Level {
  if (value === undefined) return typeof fallback === 'string' && fallback in RANK ? (fallback as Level) : 'privileged';
  // Upstream: a label that cannot be parsed is read as the most restrictive level.
  return typeof value === 'string' && value in RANK ? (value as Level) : 'restricted';
}

export interface Modes {
  enforce: Level;
  warn: Level;
  audit: Level;
}

/** The level per mode for a namespace's labels (label, else the cluster default). */
export function modesFor(labels: Readonly<Record<string, string>>, params: Readonly<PssParams>): Modes {
  return {
    enforce: parseLevel(labels[ENFORCE_LABEL], params.defaultEnforce),
    warn: parseLevel(labels[WARN_LABEL], params.defaultWarn),
    audit: parseLevel(labels[AUDIT_LABEL], params.defaultAudit),
  };
}

/**
 * Whether a mode at `level` runs a check of `checkLevel`. `baselineOnly`: the check is a baseline check that
 * upstream replaces by a restricted variant at the restricted level (capabilities, seccompProfile), and that variant
 * exempts this pod (Windows), so at restricted the finding does not count.
 */
function covers(level: Level, checkLevel: CheckLevel, baselineOnly: boolean): boolean {
  if (baselineOnly) return level === 'baseline';
  return RANK[level] >= RANK[checkLevel];
}

/** The action of a finding of a check at `checkLevel`, or undefined when no mode asks for that check. */
export function actionFor(modes: Modes, checkLevel: CheckLevel, baselineOnly = false): Action | undefined {
  if (covers(modes.enforce, checkLevel, baselineOnly)) return 'deny';
  if (covers(modes.warn, checkLevel, baselineOnly)) return 'warn';
  if (covers(modes.audit, checkLevel, baselineOnly)) return 'audit';
  return undefined;
}

/** Records a finding of the check: message in upstream's words, path from the object's root. */
export type Emit = (message: string, path: PathSegments) => void;

export interface CheckSpec {
  /** Kebab-case check name: the id is `pss.<level>.<check>`. */
  check: string;
  level: CheckLevel;
  /** Upstream's check id (for the description and the README table). */
  upstream: string;
  title: string;
  description: string;
  severity: Severity;
  /**
   * Baseline checks that upstream's restricted variant overrides, for pods the variant exempts: such a finding
   * counts only for modes at exactly `baseline`.
   */
  overriddenAtRestricted?: (pod: PodView) => boolean;
  check_(pod: PodView, emit: Emit): void;
  examples: { pass: Example[]; fail: Example[] };
}

/**
 * The action of a check's findings on one pod, from its namespace's levels ('exempt': an exemption holds, counted
 * but not reported; null: no mode runs the check). The engine asks at the pod's first finding, so a compliant pod never pays for it.
 */
function pssAction(level: CheckLevel, overriddenAtRestricted: CheckSpec['overriddenAtRestricted']) {
  return (ctx: ObjectContext<PssParams, PodView>): Action | 'exempt' | null => {
    const { params, pod } = ctx;
    const ns = ctx.namespace.name;
    if (ns !== undefined && params.exemptNamespaces.length && params.exemptNamespaces.includes(ns)) return 'exempt';
    if (params.exemptSystemNamespaces !== false && ctx.isSystemNamespace(ns)) return 'exempt';
    const user = ctx.username;
    if (user !== undefined && params.exemptUsernames.length && params.exemptUsernames.includes(user)) return 'exempt';
    const rc = pod.spec.runtimeClassName;
    if (typeof rc === 'string' && params.exemptRuntimeClasses.length && params.exemptRuntimeClasses.includes(rc)) return 'exempt';
    const a = actionFor(modesFor(ctx.namespace.labels, params), level, overriddenAtRestricted?.(pod) ?? false) ?? null;
    return a === 'deny' && !params.enforceOnTemplates && pod.templatePath.length > 0 ? 'warn' : a;
  };
}

/** Builds one pss.* policy: namespace scope (to read the level labels), Pod with autogen. */
export function pssPolicy(spec: CheckSpec): Policy {
  const { level, check_ } = spec;
  return definePolicy({
    id: `pss.${level}.${spec.check}`,
    title: spec.title,
    description: `${spec.description} Upstream check: ${spec.upstream} (Pod Security Standards, ${level} level).`,
    area: 'pod-security',
    severity: spec.severity,
    action: level === 'baseline' ? 'deny' : 'warn',
    scope: 'namespace',
    match: { kinds: ['Pod'] },
    params: PSS_DEFAULTS,
    actionFor: pssAction(level, spec.overriddenAtRestricted),
    validate: (ctx: ObjectContext<PssParams, PodView>) => check_(ctx.pod, ctx.report),
    examples: spec.examples,
  });
}
