import { readFile } from 'node:fs/promises';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { parseRollout, type ClusterContext } from '../src/engine/index.js';
import { ACTIONS, type Action, type KubeObject } from '../src/model/index.js';

/**
 * The webhook's settings: the `--config FILE` YAML (every key optional) merged under the command-line flags.
 * The file's schema is a contract (the Helm chart writes it), so it is validated strictly: an unknown key is an error.
 */
export type FailurePolicy = 'open' | 'closed';

export interface WebhookConfigFile {
  clusterLabels?: Record<string, string>;
  parameters?: Record<string, unknown>;
  actions?: Record<string, Action>;
  exemptNamespaces?: string[];
  exemptUsers?: string[];
  failurePolicy?: FailurePolicy;
  timeoutMs?: number;
  /** PolicyRollout objects (fleetgate.io/v1alpha1), as the config repo holds them: they set the action of their policies by this cluster's cohort. */
  rollouts?: KubeObject[];
}

export interface AdmissionSettings {
  cluster: ClusterContext;
  /** Namespace names or globs (`team-*`) whose requests are admitted without evaluation. */
  exemptNamespaces: string[];
  /** User names or globs (`system:serviceaccount:kube-system:*`) whose requests are admitted without evaluation. */
  exemptUsers: string[];
  /** What a policy error or a blown time budget does for deny policies. */
  failurePolicy: FailurePolicy;
  /** Per-request budget in milliseconds; keep it below the webhook configuration's timeoutSeconds. */
  timeoutMs: number;
}

export const DEFAULT_TIMEOUT_MS = 2500;

const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    clusterLabels: {
      type: 'object',
      // YAML users write `cohort: 2`; labels are strings in Kubernetes, so numbers and booleans are accepted and stringified.
      additionalProperties: { type: ['string', 'number', 'boolean'] },
    },
    parameters: { type: 'object' },
    actions: { type: 'object', additionalProperties: { enum: [...ACTIONS] } },
    exemptNamespaces: { type: 'array', items: { type: 'string', minLength: 1 } },
    exemptUsers: { type: 'array', items: { type: 'string', minLength: 1 } },
    failurePolicy: { enum: ['open', 'closed'] },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 30000 },
    rollouts: { type: 'array', items: { type: 'object' } },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validate = ajv.compile(schema);

export class ConfigError extends Error {}

/** Reads and validates a `--config` file; every mistake is reported with the file name and the key at fault. */
export async function loadConfigFile(file: string): Promise<WebhookConfigFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`--config ${file}: not valid YAML: ${(err as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => {
      const where = e.instancePath ? e.instancePath.slice(1).replace(/\//g, '.') : '(top level)';
      if (e.keyword === 'additionalProperties') return `${where}: unknown key "${(e.params as { additionalProperty: string }).additionalProperty}"`;
      if (e.keyword === 'enum') return `${where}: must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
      return `${where}: ${e.message}`;
    });
    throw new ConfigError(`--config ${file}: ${problems.join('; ')}`);
  }
  const cfg = data as WebhookConfigFile & { clusterLabels?: Record<string, unknown> };
  for (const [i, r] of (cfg.rollouts ?? []).entries()) {
    const parsed = parseRollout(r);
    const name = typeof r.metadata?.name === 'string' ? ` (${r.metadata.name})` : '';
    if (typeof parsed === 'string') throw new ConfigError(`--config ${file}: rollouts[${i}]${name}: invalid PolicyRollout: ${parsed}`);
  }
  if (cfg.clusterLabels) cfg.clusterLabels = Object.fromEntries(Object.entries(cfg.clusterLabels).map(([k, v]) => [k, String(v)]));
  return cfg as WebhookConfigFile;
}

/** File settings under flag settings: flags win key by key for labels and actions. */
export function mergeSettings(file: WebhookConfigFile, flags: ClusterContext): AdmissionSettings {
  return {
    cluster: {
      labels: { ...file.clusterLabels, ...flags.labels },
      // Flags win name by name (a POLICY:NAME flag replaces that policy's whole entry from the file).
      parameters: { ...file.parameters, ...flags.parameters },
      actions: { ...file.actions, ...flags.actions },
    },
    exemptNamespaces: file.exemptNamespaces ?? [],
    exemptUsers: file.exemptUsers ?? [],
    failurePolicy: file.failurePolicy ?? 'closed',
    timeoutMs: file.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  };
}
