import type { Action } from '../model/index.js';
import { matchesGlob } from '../model/index.js';
import type { Params, Policy } from '../authoring/index.js';

/**
 * Everything that differs between clusters: labels, parameter overrides and action overrides.
 * The webhook builds one at start-up; the scanner builds one per cluster from fleet.yaml; lint builds one from flags.
 */
export interface ClusterContext {
  name?: string;
  labels?: Record<string, string>;
  /**
   * Parameter overrides. A key that is a policy id (or glob of ids) holds that policy's parameters;
   * any other key overrides the parameter of that name in every policy that declares it (`systemNamespaces`).
   */
  parameters?: Record<string, unknown>;
  /** Action overrides by policy id or glob (`pss.restricted.*`); the most specific (longest) pattern wins. */
  actions?: Record<string, Action>;
}

function isPolicyKey(key: string): boolean {
  return key.includes('.') || key === '*';
}

/** The parameters a policy runs with in a cluster: its defaults, then global overrides, then its own. */
export function resolveParams(policy: Policy, parameters: Record<string, unknown> = {}): Params {
  const out: Params = { ...policy.params };
  for (const [k, v] of Object.entries(parameters)) {
    if (!isPolicyKey(k) && Object.prototype.hasOwnProperty.call(policy.params, k)) out[k] = v;
  }
  for (const [k, v] of Object.entries(parameters)) {
    if (isPolicyKey(k) && matchesGlob(policy.id, k) && v && typeof v === 'object') Object.assign(out, v);
  }
  return out;
}

export function resolveAction(policy: Policy, actions: Record<string, Action> = {}): Action {
  let best: { len: number; action: Action } | undefined;
  for (const [pattern, action] of Object.entries(actions)) {
    if (!matchesGlob(policy.id, pattern)) continue;
    const len = pattern === policy.id ? Infinity : pattern.replace(/\*/g, '').length;
    if (!best || len > best.len) best = { len, action };
  }
  return best?.action ?? policy.action;
}

/** `KEY=VALUE` pairs from repeatable flags into a map; throws on a pair without `=`. */
export function parsePairs(pairs: readonly string[] | undefined, what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const p of pairs ?? []) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new Error(`${what} "${p}" must look like KEY=VALUE`);
    out[p.slice(0, eq)] = p.slice(eq + 1);
  }
  return out;
}
