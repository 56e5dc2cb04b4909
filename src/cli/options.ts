import { parsePairs, type ClusterContext } from '../context.js';
import { ACTIONS, SEVERITIES, type Action, type Severity } from '../types.js';
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
