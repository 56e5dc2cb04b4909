import type { ParseArgsConfig } from 'node:util';

type FlagDefinition = NonNullable<ParseArgsConfig['options']>[string];

/**
 * The flags more than one command accepts, defined once: a command picks the ones it takes
 * (`options: { ...pickFlags('policies', 'no-builtins'), 'own-flag': { type: 'string' } }`) so that `--param` or
 * `--policies` is the same flag (type, repeatable or not) in lint, serve, scan and the rest. What a flag's value
 * means is read by the helpers of options.ts (clusterContextFromFlags, parametersFromFlags, oneOf, ...).
 *
 * The --help texts stay with each command: their wording and columns differ per command and are a user contract.
 * A flag only one command has stays in that command.
 */
export const SHARED_FLAGS = {
  /** User policy files or folders (repeatable). */
  policies: { type: 'string', multiple: true },
  /** Run only the policies of --policies. */
  'no-builtins': { type: 'boolean' },
  /** KEY=VALUE label of the target cluster (repeatable). */
  'cluster-label': { type: 'string', multiple: true },
  /** ID=ACTION override of a policy's action; ID may be a glob (repeatable). */
  action: { type: 'string', multiple: true },
  /** NAME=VALUE or POLICY:NAME=VALUE policy parameter, VALUE as YAML (repeatable). */
  param: { type: 'string', multiple: true },
  /** The report format; each command checks it against its own list. */
  format: { type: 'string' },
  /** Write the report to this file (atomically) instead of standard output. */
  output: { type: 'string' },
  /** The fleet file (fleet.yaml). */
  fleet: { type: 'string' },
  /** I/N: only clusters I, I+N, ... */
  shard: { type: 'string' },
  /** Exit 1 when the fleet score is below this. */
  'fail-below': { type: 'string' },
  /** policyreport/openreports: a "pass" result per policy too. */
  'report-passes': { type: 'boolean' },
  /** OTLP/HTTP JSON traces endpoint. */
  'otlp-endpoint': { type: 'string' },
  /** The history store: a file path (SQLite) or postgres://... */
  history: { type: 'string' },
  /** Port and address a server listens on. */
  port: { type: 'string' },
  host: { type: 'string' },
} as const satisfies Record<string, FlagDefinition>;

export type SharedFlag = keyof typeof SHARED_FLAGS;

/** The definitions of the named shared flags, to spread into a command's parseArgs `options`. */
export function pickFlags<K extends SharedFlag>(...names: K[]): Pick<typeof SHARED_FLAGS, K> {
  const out = {} as Pick<typeof SHARED_FLAGS, K>;
  for (const name of names) out[name] = SHARED_FLAGS[name];
  return out;
}
