import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { EXIT_OK, EXIT_USAGE, UsageError, type Command, type CommandEnv } from '../src/cli/index.js';
import { clusterContextFromFlags, parametersFromFlags, pickFlags } from '../src/cli/index.js';
import { loadPolicySet } from '../src/loading/index.js';
import { actionMap, effectiveActions, rolloutsAmong } from '../src/engine/index.js';
import { undeclaredParameters, type Policy } from '../src/authoring/index.js';
import { ConfigError, loadConfigFile, mergeSettings, type AdmissionSettings, type WebhookConfigFile } from './config.js';
import { WebhookMetrics } from './metrics.js';
import { NamespaceCache } from './namespace-cache.js';
import { Tracer, otlpHeaders, otlpTracesUrl, redactUrl } from './otlp.js';
import { createWebhookServer, type WebhookServer } from './server.js';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

const usage = `Usage: fleetgate serve --tls-cert FILE --tls-key FILE [options]

Runs the validating admission webhook: HTTPS only (TLS 1.2+), admission.k8s.io/v1 AdmissionReview on
POST /validate, GET /healthz, GET /readyz (200 once the policies are loaded and, with a
namespace watch, the namespaces listed), GET /metrics (Prometheus).
The cert and key files are re-read when they change (every 10 s), without dropping connections.
SIGTERM stops accepting, lets in-flight reviews finish and exits 0.

Options:
  --port N                    port to listen on (default 8443)
  --host ADDRESS              address to listen on (default 0.0.0.0)
  --tls-cert FILE             PEM certificate (chain) served to the apiserver (required)
  --tls-key FILE              PEM private key of that certificate (required)
  --cluster-label KEY=VALUE   label of this cluster (repeatable): region=europe, type=edge, ...
  --policies PATH             load user policies (.ts/.js) from a file or folder (repeatable)
  --action ID=ACTION          override a policy's action: deny, warn or audit; ID may be a glob (repeatable)
  --param NAME=VALUE          set a parameter (VALUE as YAML; POLICY:NAME=VALUE for one policy), over --config
  --config FILE               YAML settings: clusterLabels, parameters, actions, exemptNamespaces,
                              exemptUsers, failurePolicy (closed|open), timeoutMs; flags override it
  --kubeconfig FILE           watch namespaces (for namespace-scope policies) through this kubeconfig;
                              in a pod, the in-cluster service account is used automatically
  --no-namespace-watch        never watch namespaces: namespace labels are then unknown to policies
  --log-level LEVEL           fatal, error, warn, info (default), debug, trace, silent
  --otlp-endpoint URL         export traces (a span per review, child spans per policy) over OTLP/HTTP JSON
                              to URL (http://collector:4318; /v1/traces is added); default: the standard
                              OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT variables, else off

Exit codes: 0 after a clean shutdown, 2 for unusable arguments, config or policies.
`;

const FLAGS = {
  ...pickFlags('port', 'host', 'cluster-label', 'policies', 'action', 'param', 'otlp-endpoint'),
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  config: { type: 'string' },
  kubeconfig: { type: 'string' },
  'no-namespace-watch': { type: 'boolean' },
  'log-level': { type: 'string' },
} as const;

interface ServeOptions {
  /** The --config file as written, and the flags that override it (rollouts need both, once policies are known). */
  file: WebhookConfigFile;
  configPath?: string;
  flags: ReturnType<typeof clusterContextFromFlags> & { parameters: ReturnType<typeof parametersFromFlags> };
  port: number;
  host: string;
  level: string;
  certFile: string;
  keyFile: string;
  settings: AdmissionSettings;
  policyPaths: string[];
  kubeconfig?: string;
  namespaceWatch: boolean;
  /** OTLP traces URL; undefined: tracing off. */
  otlpUrl?: string;
}

/** The flags and the config file, checked: every mistake is a UsageError (exit 2) naming the flag or key. */
async function parseServeArgs(argv: string[]): Promise<ServeOptions> {
  const { values } = parseArgs({ args: argv, allowPositionals: false, strict: true, options: FLAGS });
  if (!values['tls-cert'] || !values['tls-key'])
    throw new UsageError('--tls-cert and --tls-key are required: fleetgate serve speaks HTTPS only (the apiserver calls webhooks over TLS)');
  const port = values.port === undefined ? 8443 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be a port number, got "${values.port}"`);
  const level = values['log-level'] ?? 'info';
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${level}")`);

  let file: WebhookConfigFile = {};
  if (values.config) {
    try {
      file = await loadConfigFile(values.config);
    } catch (err) {
      if (err instanceof ConfigError) throw new UsageError(err.message);
      throw err;
    }
  }
  let otlpUrl: string | undefined;
  try {
    otlpUrl = otlpTracesUrl(values['otlp-endpoint']);
  } catch (err) {
    throw new UsageError(`--otlp-endpoint: ${(err as Error).message}`);
  }
  const flags = { ...clusterContextFromFlags(values['cluster-label'], values.action), parameters: parametersFromFlags(values.param) };
  const settings = mergeSettings(file, flags);
  return {
    file,
    configPath: values.config,
    flags,
    port,
    host: values.host ?? '0.0.0.0',
    level,
    certFile: values['tls-cert'],
    keyFile: values['tls-key'],
    settings,
    policyPaths: values.policies ?? [],
    kubeconfig: values.kubeconfig,
    namespaceWatch: !values['no-namespace-watch'],
    otlpUrl,
  };
}

/** Built-in and user policies; the config's PolicyRollouts then set this cluster's actions (they need the ids). */
function loadPolicies(o: ServeOptions, env: CommandEnv): Promise<Policy[]> {
  return env
    .builtins()
    .then((builtins) => loadPolicySet(o.policyPaths, { builtins, sandbox: { timeoutMs: o.settings.timeoutMs } }))
    .then((set) => {
      if (set.errors.length) {
        const text = set.errors.map((e) => `${e.file}${e.line ? `:${e.line}${e.column ? `:${e.column}` : ''}` : ''}: ${e.message}`).join('\n');
        throw new UsageError(`cannot load policies:\n${text}`);
      }
      // A parameter no loaded policy declares is a typo that would silently keep the default (as lint and scan say).
      const undeclared = [
        ...undeclaredParameters(o.file.parameters, set.policies, `--config ${o.configPath}: parameters`),
        ...undeclaredParameters(o.flags.parameters, set.policies, '--param'),
      ];
      if (undeclared.length) throw new UsageError(undeclared.join('\n'));
      // The config's PolicyRollouts set the action of the policies they name for this cluster's cohort; that needs
      // the policy ids, so it is settled here, before the server binds settings.cluster to the loaded policies.
      const rollouts = rolloutsAmong(o.file.rollouts ?? []).rollouts;
      if (rollouts.length) {
        const effective = effectiveActions(set.policies, o.file.actions ?? {}, o.flags.actions ?? {}, rollouts, { labels: o.settings.cluster.labels ?? {} });
        o.settings.cluster = { ...o.settings.cluster, actions: actionMap(effective) };
      }
      return set.policies;
    });
}

/** Resolves with the exit code once SIGTERM or SIGINT has stopped the server (exits 1 after 30 s of waiting). */
function stopOnSignal(server: WebhookServer, nsCache: NamespaceCache | undefined, logger: Logger): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal }, 'shutting down: no new connections, finishing in-flight reviews');
      const force = setTimeout(() => {
        logger.error('in-flight reviews did not finish within 30 s; exiting anyway');
        process.exit(1);
      }, 30_000);
      force.unref();
      Promise.all([server.close(), nsCache?.stop()]).then(
        () => {
          logger.info('stopped');
          resolve(EXIT_OK);
        },
        (err) => {
          logger.error({ reason: (err as Error).message }, 'error while shutting down');
          resolve(1);
        },
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

export const command: Command = {
  summary: 'run the validating admission webhook (HTTPS)',
  usage,
  async run(argv, env) {
    const o = await parseServeArgs(argv);
    const logger = pino({
      level: o.level,
      base: { service: 'fleetgate-webhook' },
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization'], censor: '[redacted]' },
    });
    const metrics = new WebhookMetrics({ defaultMetrics: true });
    const tracer = o.otlpUrl
      ? new Tracer({ url: o.otlpUrl, serviceName: process.env.OTEL_SERVICE_NAME || 'fleetgate-webhook', headers: otlpHeaders(), onError: (m) => logger.warn(m) })
      : undefined;
    if (tracer) logger.info({ otlp: redactUrl(o.otlpUrl!) }, 'exporting traces over OTLP/HTTP');

    let nsCache: NamespaceCache | undefined;
    if (o.namespaceWatch) {
      const kc = NamespaceCache.kubeConfig(o.kubeconfig);
      if (kc) nsCache = new NamespaceCache(kc, logger, (n) => metrics.namespaces.set(n));
      else logger.info('no cluster access (no --kubeconfig, not in a pod): namespace labels are unknown to namespace-scope policies');
    }

    let server: WebhookServer;
    try {
      server = await createWebhookServer({
        settings: o.settings,
        policies: loadPolicies(o, env),
        tls: { certFile: o.certFile, keyFile: o.keyFile },
        logger,
        metrics,
        tracer,
        namespaceLabels: nsCache?.lookup,
        // Namespace-scope policies need the namespaces' labels: not ready before the first list arrived.
        dependenciesReady: nsCache ? () => nsCache!.synced : undefined,
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || /PEM|key|certificate/i.test((err as Error).message))
        throw new UsageError(`cannot use the TLS files: ${(err as Error).message}`);
      throw err;
    }
    const where = await server.listen(o.port, o.host);
    logger.info({ port: where.port, host: o.host }, 'listening (HTTPS)');
    void nsCache?.start();
    try {
      await server.ready;
    } catch (err) {
      await server.close();
      await nsCache?.stop();
      if (err instanceof UsageError) throw err;
      throw new UsageError(`cannot start: ${(err as Error).message}`);
    }
    return stopOnSignal(server, nsCache, logger);
  },
};
