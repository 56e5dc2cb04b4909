import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { pino, type Logger } from 'pino';
import { Engine, type ClusterEngine } from '../src/engine/index.js';
import { inProcessEvaluator, type Evaluator } from '../src/engine/index.js';
import { PolicyRuntime } from '../src/engine/index.js';
import type { Policy } from '../src/authoring/index.js';
import { AdmissionHandler, type ReviewOutcome } from './admission.js';
import { BodyReader, HttpError } from './body.js';
import { ReplyBatch } from './reply-batch.js';
import type { AdmissionSettings } from './config.js';
import { WebhookMetrics } from './metrics.js';
import { CertReloader, readTlsFiles, tlsOptions } from './tls.js';

/** Bodies over this get 413 (the apiserver's own request limit is 3 MiB). */
export const BODY_LIMIT = 3 * 1024 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** When this request's time budget runs out (ms since the epoch). */
    fgDeadline: number;
  }
}

export interface WebhookServerOptions {
  settings: AdmissionSettings;
  /** The policy set, or a promise of it: /readyz answers 503 until it is loaded. */
  policies: readonly Policy[] | Promise<readonly Policy[]>;
  tls: { certFile: string; keyFile: string; /** How often the files are re-read (default 10 s). */ reloadIntervalMs?: number };
  logger?: Logger;
  /** Builds the evaluator from the bound engine (default: in-process). Worker-thread evaluators plug in here. */
  evaluator?: (engine: ClusterEngine) => Evaluator;
  namespaceLabels?: (name: string) => Record<string, string> | undefined;
  /** Extra readiness condition (the namespace cache's first sync): /readyz stays 503 until it holds. */
  dependenciesReady?: () => boolean;
  metrics?: WebhookMetrics;
  bodyLimit?: number;
}

function parseJson(buf: Buffer): unknown {
  try {
    // JSON.parse makes `__proto__` an ordinary own property (it never sets a prototype), so such keys stay inert.
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    // V8's message quotes the input; never echo a body (it may hold Secret data) — give the position only.
    const at = /position (\d+)/.exec((err as Error).message)?.[1];
    throw new HttpError(400, `request body is not valid JSON${at ? ` (at byte ${at})` : buf.length === 0 ? ' (it is empty)' : ''}`, 'malformed-json');
  }
}

/**
 * The AdmissionReview fleetgate answers with, as a response schema: fastify compiles it into a serializer
 * (fast-json-stringify), cheaper than JSON.stringify on every review. Every field the handler sets is listed
 * (fields not listed would be dropped); the 400/503 bodies use other status codes and are not affected.
 */
const REVIEW_RESPONSE_SCHEMA = {
  type: 'object',
  required: ['apiVersion', 'kind', 'response'],
  properties: {
    apiVersion: { type: 'string' },
    kind: { type: 'string' },
    response: {
      type: 'object',
      required: ['uid', 'allowed'],
      properties: {
        uid: { type: 'string' },
        allowed: { type: 'boolean' },
        status: {
          type: 'object',
          properties: { code: { type: 'integer' }, reason: { type: 'string' }, message: { type: 'string' } },
        },
        warnings: { type: 'array', items: { type: 'string' } },
      },
    },
  },
} as const;

/** The HTTP answer to a review: the AdmissionReview, or a 400 body saying what was wrong with the request. */
function toReply(outcome: ReviewOutcome, reply: FastifyReply): unknown {
  if (outcome.statusCode === 200) return outcome.body;
  reply.code(400);
  return { statusCode: 400, error: 'Bad Request', message: outcome.message };
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

export async function createWebhookServer(opts: WebhookServerOptions): Promise<WebhookServer> {
  const logger = opts.logger ?? pino({ level: 'info' });
  const metrics = opts.metrics ?? new WebhookMetrics();
  const limit = opts.bodyLimit ?? BODY_LIMIT;
  const budget = opts.settings.timeoutMs;
  const material = readTlsFiles(opts.tls.certFile, opts.tls.keyFile);
  const app = Fastify({
    https: tlsOptions(material),
    // No fastify logger: it would build a child logger per request. The webhook logs what matters itself.
    logger: false,
    bodyLimit: limit,
    // Backstops for clients that stall; body reads have their own, tighter deadline (the time budget).
    requestTimeout: Math.max(4 * budget, 10_000),
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  });
  const server = app.server as unknown as HttpsServer;
  server.headersTimeout = Math.max(2 * budget, 5_000);

  let handler: AdmissionHandler | undefined;
  let closing = false;
  let evaluator: Evaluator | undefined;

  const bodies = new BodyReader(limit, budget);
  // The budget starts when the body starts to arrive (right after the headers), and covers reading it.
  app.decorateRequest('fgDeadline', 0);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', (request: { fgDeadline: number }, payload: IncomingMessage, done: (err: Error | null, body?: unknown) => void) => {
    request.fgDeadline = Date.now() + budget;
    bodies.read(payload, (err, buf) => {
      if (err) return done(err);
      let parsed: unknown;
      try {
        parsed = parseJson(buf!);
      } catch (e) {
        return done(e as HttpError);
      }
      done(null, parsed); // outside the try: done runs the handler, whose errors are not JSON errors
    });
  });
  app.addContentTypeParser('*', async (request: { headers: Record<string, unknown> }) => {
    const ct = String(request.headers['content-type'] ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
    throw new HttpError(400, `unsupported Content-Type "${ct}": send an AdmissionReview as application/json`, 'content-type', true);
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, request, reply) => {
    const status = err.statusCode ?? 500;
    if (err instanceof HttpError || (status >= 400 && status < 500)) {
      const code = status === 413 ? 413 : status === 404 ? 404 : 400;
      const reason = err instanceof HttpError ? err.reason : (err.code ?? 'bad-request');
      if (request.url.startsWith('/validate')) metrics.badRequests.inc({ reason });
      if (!(err instanceof HttpError) || err.closeConnection) reply.header('connection', 'close');
      logger.debug({ reason, status: code }, 'bad request');
      return reply.code(code).send({ statusCode: code, error: code === 413 ? 'Payload Too Large' : 'Bad Request', message: err.message });
    }
    logger.error({ reason: err.message, code: err.code }, 'internal error');
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
  });

  app.get('/healthz', async () => 'ok\n');
  app.get('/readyz', async (_request, reply) => {
    const synced = opts.dependenciesReady?.() ?? true;
    if (handler && synced && !closing) return 'ok\n';
    reply.code(503);
    return closing ? 'shutting down\n' : !handler ? 'policies not loaded yet\n' : 'namespace cache not synced yet\n';
  });
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  // Not an async handler: with built-in policies a review is judged synchronously, without a promise per request;
  // its answer leaves with the others judged in the same event-loop turn (ReplyBatch).
  const replies = new ReplyBatch(logger);
  app.post('/validate', { schema: { response: { 200: REVIEW_RESPONSE_SCHEMA } } }, (request, reply: FastifyReply) => {
    if (!handler) {
      reply.code(503).header('retry-after', '1');
      return { statusCode: 503, error: 'Service Unavailable', message: 'fleetgate is still loading its policies' };
    }
    const outcome = handler.review(request.body, request.fgDeadline || Date.now() + budget);
    if (outcome instanceof Promise)
      outcome.then(
        (o) => replies.send(reply, toReply(o, reply)),
        (err: Error) => reply.send(err), // review never rejects; if it ever did, the error handler answers 500
      );
    else replies.send(reply, toReply(outcome, reply));
  });

  const reloader = new CertReloader(
    opts.tls.certFile,
    opts.tls.keyFile,
    material,
    (o) => server.setSecureContext(o),
    logger,
    (ok) => metrics.certReloads.inc({ result: ok ? 'ok' : 'error' }),
  );
  reloader.start(opts.tls.reloadIntervalMs ?? 10_000);

  const ready = Promise.resolve(opts.policies).then(async (policies) => {
    const engine = new Engine(policies).bind(opts.settings.cluster);
    // Built-in policies stay on the in-process fast path; users' policies run in worker threads, where a runaway
    // one is stopped at the request budget (its worker replaced) instead of blocking the event loop.
    evaluator = opts.evaluator
      ? opts.evaluator(engine)
      : policies.some((p) => p.file)
        ? await PolicyRuntime.create(policies, opts.settings.cluster, { timeoutMs: budget, workers: 2 })
        : inProcessEvaluator(engine);
    handler = new AdmissionHandler({ engine, evaluator, policies, settings: opts.settings, metrics, logger, namespaceLabels: opts.namespaceLabels });
    logger.info({ policies: policies.length, failurePolicy: opts.settings.failurePolicy, timeoutMs: budget }, 'policies loaded; ready');
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
      reloader.stop();
      bodies.close();
      // Keep-alive connections whose review was in flight when closing began turn idle only afterwards:
      // close them as they do, or the server would wait for the client's keep-alive to run out.
      const sweep = setInterval(() => server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearInterval(sweep);
      }
      await evaluator?.close?.();
    },
  };
}
