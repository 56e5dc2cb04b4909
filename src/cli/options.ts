import { parse as parseYaml } from 'yaml';
import { parsePairs, type ClusterContext } from '../engine/index.js';
import { ACTIONS, SEVERITIES, type Action, type Severity } from '../model/index.js';
import { UsageError } from './command.js';

/** Flags shared by lint, serve and scan: cluster labels and action overrides, parsed the same way everywhere. */
export function clusterContextFromFlags(labels: string[] | undefined, actions: string[] | undefined): ClusterContext {
  try {
    const acts = parsePairs(actions, '--action');
    for (const [id, a] of Object.entries(acts))
      if (!ACTIONS.includes(a as Action)) throw new Error(`--action ${id}=${a}: action must be one of ${ACTIONS.join(', ')}`);
    return { labels: parsePairs(labels, '--cluster-label'), actions: acts as Record<string, Action> };
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/**
 * `--param NAME=VALUE` sets a parameter for every policy that declares NAME; `--param POLICY:NAME=VALUE` for one
 * policy (POLICY may be a glob of ids). VALUE is read as YAML: `--param euRegions=[europe,switzerland]`.
 * The result has the shape of the `parameters` of fleet.yaml and the webhook's --config.
 */
export function parametersFromFlags(pairs: string[] | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param "${pair}" must look like NAME=VALUE or POLICY:NAME=VALUE`);
    const key = pair.slice(0, eq);
    let value: unknown;
    try {
      value = parseYaml(pair.slice(eq + 1));
    } catch (err) {
      throw new UsageError(`--param ${key}: the value is not valid YAML (${(err as Error).message.split('\n')[0]})`);
    }
    const colon = key.lastIndexOf(':');
    const [policy, name] = colon < 0 ? [undefined, key] : [key.slice(0, colon), key.slice(colon + 1)];
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name))
      throw new UsageError(`--param ${key}: "${name}" is not a parameter name (write POLICY:NAME=VALUE for one policy's parameter)`);
    if (policy === undefined) out[name] = value;
    else {
      if (!policy) throw new UsageError(`--param ${key}: the policy id before ":" is empty`);
      const own = (out[policy] ??= {}) as Record<string, unknown>;
      own[name] = value;
    }
  }
  return out;
}

export function oneOf<T extends string>(flag: string, value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')} (got "${value}")`);
  return value as T;
}

export function severityThreshold(value: string | undefined): Severity | 'never' {
  return oneOf('--fail-on', value, [...SEVERITIES, 'never'] as const, 'low');
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function positiveInt(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new UsageError(`${flag} must be a positive whole number (got "${value}")`);
  return n;
}
