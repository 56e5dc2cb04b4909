import { param } from '../../src/index.js';
import type { Action, ObjectContext, ParamValues, PodView } from '../../src/index.js';

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

export const LEVELS: readonly Level[] = ['privileged', 'baseline', 'restricted'];

/** Parameters every pss.* policy declares (one schema for the pack), so one global parameter sets them for the whole pack. */
export const PSS_PARAMS = {
  /** Level enforced (deny) where a namespace has no `pod-security.kubernetes.io/enforce` label. */
  defaultEnforce: param.oneOf(LEVELS, 'baseline', 'level enforced where a namespace has no enforce label'),
  /** Level warned about where a namespace has no `pod-security.kubernetes.io/warn` label. */
  defaultWarn: param.oneOf(LEVELS, 'restricted', 'level warned about where a namespace has no warn label'),
  /** Level audited where a namespace has no `pod-security.kubernetes.io/audit` label. */
  defaultAudit: param.oneOf(LEVELS, 'privileged', 'level audited where a namespace has no audit label'),
  /** Namespaces the pack does not judge (upstream's `exemptions.namespaces`). */
  exemptNamespaces: param.strings([], "namespaces not judged (upstream's exemptions.namespaces)"),
  /** The system namespaces (`systemNamespaces`, or labelled fleetgate.io/system) are exempt too (default true). */
  exemptSystemNamespaces: param.boolean(true, 'the system namespaces are exempt too'),
  /** Requests by these users are not judged at admission (upstream's `exemptions.usernames`). */
  exemptUsernames: param.strings([], "users whose requests are not judged (upstream's exemptions.usernames)"),
  /** Pods with one of these `runtimeClassName`s are not judged (upstream's `exemptions.runtimeClasses`). */
  exemptRuntimeClasses: param.strings([], "runtime classes whose pods are not judged (upstream's exemptions.runtimeClasses)"),
  /**
   * Deny pod templates (Deployments, CronJobs, …) like pods. Upstream only warns and audits templates and
   * enforces on the pods the controller creates; `false` does the same (an enforce finding on a template warns).
   */
  enforceOnTemplates: param.boolean(true, 'deny pod templates like pods (false: warn, as upstream)'),
};

/** The parameters as a pss.* policy reads them. */
export type PssParams = ParamValues<typeof PSS_PARAMS>;

/** Each parameter's default. */
export const PSS_DEFAULTS: PssParams = Object.freeze(
  Object.fromEntries(Object.entries(PSS_PARAMS).map(([name, spec]) => [name, spec.default])),
) as PssParams;

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

/** What a pss.* policy sees: a Pod (or a pod controller's template) with the pack's parameters. */
export type PssContext = ObjectContext<typeof PSS_PARAMS, PodView>;

/**
 * The action of a check's findings on one pod, from its namespace's levels ('exempt': an exemption holds, counted
 * but not reported; null: no mode runs the check). Each pss.* policy's `actionFor` calls it; the engine asks at the pod's first finding, so a compliant pod
 * never pays for it. `overriddenAtRestricted`: see `actionFor` (capabilities and seccompProfile on Windows pods).
 */
export function pssAction(ctx: PssContext, level: CheckLevel, overriddenAtRestricted = false): Action | 'exempt' | null {
  const { params, pod } = ctx;
  const ns = ctx.namespace.name;
  if (ns !== undefined && params.exemptNamespaces.length && params.exemptNamespaces.includes(ns)) return 'exempt';
  if (params.exemptSystemNamespaces !== false && ctx.isSystemNamespace(ns)) return 'exempt';
  const user = ctx.username;
  if (user !== undefined && params.exemptUsernames.length && params.exemptUsernames.includes(user)) return 'exempt';
  const rc = pod.spec.runtimeClassName;
  if (typeof rc === 'string' && params.exemptRuntimeClasses.length && params.exemptRuntimeClasses.includes(rc)) return 'exempt';
  const a = actionFor(modesFor(ctx.namespace.labels, params), level, overriddenAtRestricted) ?? null;
  return a === 'deny' && !params.enforceOnTemplates && pod.templatePath.length > 0 ? 'warn' : a;
}

/**
 * What every pss.* policy of a level shares: namespace scope (to read the level labels), `Pod` with autogen, the
 * pack's parameters; baseline checks deny by default and restricted ones warn (the namespace labels decide).
 */
export const BASELINE = { area: 'pod-security', scope: 'namespace', match: { kinds: ['Pod'] }, params: PSS_PARAMS, action: 'deny' } as const;
export const RESTRICTED = { ...BASELINE, action: 'warn' } as const;

/** The description's last sentence: which upstream check the policy is. */
export const upstream = (check: string, level: CheckLevel) => ` Upstream check: ${check} (Pod Security Standards, ${level} level).`;

/** Quotes a value for a message, as upstream does. */
export const q = (s: unknown) => JSON.stringify(s);

/** Windows pods are exempt from several restricted checks (since v1.25), as upstream. */
export const isWindows = (p: PodView) => p.os === 'windows';
