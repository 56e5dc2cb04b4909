import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { ADMISSION_API_VERSION, type AdmissionHandler, type ReviewOutcome } from '../admission.js';
import { BodyReader, HttpError } from '../body.js';
import { ReplyBatch } from '../reply-batch.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** When this request's time budget runs out (ms since the epoch). */
    fgDeadline: number;
  }
}

export interface ValidateOptions {
  /** The admission handler once the policies are loaded (503 before). */
  handler: () => AdmissionHandler | undefined;
  /** Per-request time budget (ms): covers reading the body and judging it. */
  budgetMs: number;
  bodyLimit: number;
  logger: Logger;
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

/** The plain "allowed" AdmissionReview up to its uid, and after it: the most common answer, built once. */
const ALLOWED_HEAD = `{"apiVersion":${JSON.stringify(ADMISSION_API_VERSION)},"kind":"AdmissionReview","response":{"uid":`;
const ALLOWED_TAIL = ',"allowed":true}}';
const JSON_UTF8 = 'application/json; charset=utf-8';

/**
 * The HTTP answer to a review: the AdmissionReview, or a 400 body saying what was wrong with the request. A plain
 * "allowed" (no warning, no status) is the pre-built text with the review's uid (JSON.stringify quotes and escapes
 * it), sent as it is; any other answer goes through the response schema's serializer.
 */
function toReply(outcome: ReviewOutcome, reply: FastifyReply): unknown {
  if (outcome.statusCode === 200) {
    const r = outcome.body.response;
    if (r.allowed !== true || r.status !== undefined || r.warnings !== undefined) return outcome.body;
    reply.header('content-type', JSON_UTF8);
    return `${ALLOWED_HEAD}${JSON.stringify(r.uid)}${ALLOWED_TAIL}`;
  }
  reply.code(400);
  return { statusCode: 400, error: 'Bad Request', message: outcome.message };
}

/**
 * POST /validate with its own body parser (byte limit and time budget, JSON only), response schema and reply
 * batching. Encapsulated: the parsers apply to this route only.
 */
export const validatePlugin: FastifyPluginCallback<ValidateOptions> = (app, opts, done) => {
  const { budgetMs: budget, logger } = opts;
  const bodies = new BodyReader(opts.bodyLimit, budget);
  app.addHook('onClose', (_app, next) => {
    bodies.close();
    next();
  });

  // The budget starts when the body starts to arrive (right after the headers), and covers reading it.
  app.decorateRequest('fgDeadline', 0);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', (request: { fgDeadline: number }, payload: IncomingMessage, parsed: (err: Error | null, body?: unknown) => void) => {
    request.fgDeadline = Date.now() + budget;
    bodies.read(payload, (err, buf) => {
      if (err) return parsed(err);
      let body: unknown;
      try {
        body = parseJson(buf!);
      } catch (e) {
        return parsed(e as HttpError);
      }
      parsed(null, body); // outside the try: this runs the handler, whose errors are not JSON errors
    });
  });
  app.addContentTypeParser('*', async (request: { headers: Record<string, unknown> }) => {
    const ct = String(request.headers['content-type'] ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
    throw new HttpError(400, `unsupported Content-Type "${ct}": send an AdmissionReview as application/json`, 'content-type', true);
  });

  // Not an async handler: with built-in policies a review is judged synchronously, without a promise per request;
  // its answer leaves with the others judged in the same event-loop turn (ReplyBatch).
  const replies = new ReplyBatch(logger);
  app.post('/validate', { schema: { response: { 200: REVIEW_RESPONSE_SCHEMA } } }, (request, reply: FastifyReply) => {
    const handler = opts.handler();
    if (!handler) {
      reply.code(503).header('retry-after', '1');
      return { statusCode: 503, error: 'Service Unavailable', message: 'fleetgate is still loading its policies' };
    }
    // Answered through the callback: before review() returns when the evaluator is synchronous.
    handler.review(request.body, request.fgDeadline || Date.now() + budget, (outcome) => replies.send(reply, toReply(outcome, reply)));
  });
  done();
};
