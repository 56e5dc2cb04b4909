import Fastify, { type FastifyInstance } from 'fastify';
import type { Server as HttpsServer } from 'node:https';
import { pino, type Logger } from 'pino';
import { createEvaluator, type ClusterContext, type Evaluator } from '../src/engine/index.js';
import type { Policy } from '../src/authoring/index.js';
import { AdmissionHandler } from './admission.js';
import type { AdmissionSettings } from './config.js';
import { WebhookMetrics } from './metrics.js';
import { errorHandler } from './plugins/errors.js';
import { metricsPlugin } from './plugins/metrics.js';
import { probesPlugin } from './plugins/probes.js';
import { validatePlugin } from './plugins/validate.js';
import type { Tracer } from './otlp.js';
import { CertReloader, certificateNotAfter, readTlsFiles, tlsOptions, type TlsMaterial } from './tls.js';

/** Bodies over this get 413 (the apiserver's own request limit is 3 MiB). */
export const BODY_LIMIT = 3 * 1024 * 1024;

export interface WebhookServerOptions {
  settings: AdmissionSettings;
  /** The policy set, or a promise of it: /readyz answers 503 until it is loaded. */
  policies: readonly Policy[] | Promise<readonly Policy[]>;
  tls: { certFile: string; keyFile: string; /** How often the files are re-read (default 10 s). */ reloadIntervalMs?: number };
  logger?: Logger;
  /**
   * Builds the evaluator for the policies and the cluster (default: createEvaluator — synchronous with built-in
   * policies only, users' policies in the sandbox isolate, batched per event-loop turn). Tests plug stalling or failing evaluators in here.
   */
  evaluator?: (policies: readonly Policy[], cluster: ClusterContext) => Evaluator | Promise<Evaluator>;
  namespaceLabels?: (name: string) => Record<string, string> | undefined;
  /** Extra readiness condition (the namespace cache's first sync): /readyz stays 503 until it holds. */
  dependenciesReady?: () => boolean;
  metrics?: WebhookMetrics;
  bodyLimit?: number;
  /** OTLP traces of the reviews (off when absent: no tracing code runs). */
  tracer?: Tracer;
}

export interface WebhookServer {
  app: FastifyInstance<HttpsServer>;
  metrics: WebhookMetrics;
  logger: Logger;
  /** Resolves once the policies are loaded and the server answers reviews. */
  ready: Promise<void>;
  listen(port: number, host: string): Promise<{ port: number; address: string }>;
  /** Re-reads the TLS files now (also done on a timer). */
  reloadCertificate(): boolean;
  /** Stops accepting, lets in-flight reviews finish, releases everything. */
  close(): Promise<void>;
}

/**
 * The webhook as a fastify app: probes, metrics and validate plugins over one HTTPS server whose certificate is
 * re-read from its files. The policies load in the background (`ready`); until then /validate and /readyz say 503.
 */
export async function createWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const logger = opts.logger ?? pino({ level: 'info' });
  const metrics = opts.metrics ?? new WebhookMetrics();
  const limit = opts.bodyLimit ?? BODY_LIMIT;
  const budget = opts.settings.timeoutMs;
  const material = readTlsFiles(opts.tls.certFile, opts.tls.keyFile);
  const app = fastifyApp(material, limit, budget);
  const server = app.server as unknown as HttpsServer;

  metrics.budget.set(budget / 1000);
  let handler: AdmissionHandler | undefined;
  let closing = false;
  let evaluator: Evaluator | undefined;

  app.setErrorHandler(errorHandler(logger, (request, reason) => request.url.startsWith('/validate') && metrics.badRequests.inc({ reason })));
  app.register(probesPlugin, { loaded: () => handler !== undefined, dependenciesReady: opts.dependenciesReady, closing: () => closing });
  app.register(metricsPlugin, { metrics });
  app.register(validatePlugin, { handler: () => handler, budgetMs: budget, bodyLimit: limit, logger });

  const reloader = startCertReload(opts.tls, material, server, metrics, logger);
  app.addHook('onClose', async () => {
    reloader.stop();
    await evaluator?.close?.();
    await opts.tracer?.shutdown(); // the last reviews' spans
  });

  const ready = Promise.resolve(opts.policies).then(async (policies) => {
    ({ handler, evaluator } = await loadHandler(policies, opts, metrics, logger));
  });
  ready.catch(() => {}); // the caller awaits it; an unobserved rejection must not kill the process first

  return {
    app,
    metrics,
    logger,
    ready,
    async listen(port, host) {
      await app.listen({ port, host });
      const a = app.server.address();
      return typeof a === 'object' && a ? { port: a.port, address: a.address } : { port, address: host };
    },
    reloadCertificate: () => reloader.check(),
    async close() {
      closing = true;
      // Keep-alive connections whose review was in flight when closing began turn idle only afterwards:
      // close them as they do, or the server would wait for the client's keep-alive to run out.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await evaluator?.close();
    },
  };
}

/** The HTTPS fastify instance with the webhook's limits (its plugins are registered by createWebhookServer). */
function fastifyApp(material: TlsMaterial, bodyLimit: number, budget: number): FastifyInstance<HttpsServer> {
  const app = Fastify({
    https: tlsOptions(material),
    // No fastify logger: it would build a child logger per request. The webhook logs what matters itself.
    logger: false,
    bodyLimit,
    // Backstops for clients that stall; body reads have their own, tighter deadline (the time budget).
    requestTimeout: Math.max(4 * budget, 10_000),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  (app.server as unknown as HttpsServer).headersTimeout = Math.max(2 * budget, 5_000);
  return app as unknown as FastifyInstance<HttpsServer>;
}

/** Re-reads the TLS files on a timer and installs a changed pair; the metrics count reloads and show the expiry. */
function startCertReload(tls: WebhookServerOptions['tls'], material: TlsMaterial, server: HttpsServer, metrics: WebhookMetrics, logger: Logger): CertReloader {
  const showExpiry = (m: TlsMaterial) => {
    const notAfter = certificateNotAfter(m.cert);
    if (notAfter !== undefined) metrics.certExpiry.set(notAfter);
  };
  const reloader = new CertReloader(
    tls.certFile,
    tls.keyFile,
    material,
    (o) => server.setSecureContext(o),
    logger,
    (ok, installed) => {
      metrics.certReloads.inc({ result: ok ? 'ok' : 'error' });
      if (installed) showExpiry(installed);
    },
  );
  showExpiry(material);
  reloader.start(tls.reloadIntervalMs ?? 10_000);
  return reloader;
}

/** Binds the policies to the cluster and picks where they run. */
async function loadHandler(policies: readonly Policy[], opts: WebhookServerOptions, metrics: WebhookMetrics, logger: Logger): Promise<{ handler: AdmissionHandler; evaluator: Evaluator }> {
  const { settings } = opts;
  // The in-process policies timed and counted per policy (fleetgate_policy_* metrics).
  const instrumented = metrics.policies.instrument(policies, settings.cluster, { trace: opts.tracer !== undefined });
  // Built-in policies on the calling thread; users' policies in the sandbox isolate, stopped at the request budget,
  // one call into it for the reviews of one event-loop turn (perTurn).
  const make = opts.evaluator ?? ((p: readonly Policy[], cluster: ClusterContext) => createEvaluator(p, cluster, { sandbox: { timeoutMs: settings.timeoutMs }, perTurn: true }));
  const evaluator = await make(instrumented, settings.cluster);
  const handler = new AdmissionHandler({ evaluator, settings, metrics, logger, namespaceLabels: opts.namespaceLabels, tracer: opts.tracer });
  logger.info({ policies: policies.length, failurePolicy: settings.failurePolicy, timeoutMs: settings.timeoutMs }, 'policies loaded; ready');
  return { handler, evaluator };
}
