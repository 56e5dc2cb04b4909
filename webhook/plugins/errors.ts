import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { HttpError } from '../body.js';

/**
 * The server-wide error handler: client errors (bad bodies, bad content types, fastify's own 4xx) get 400, 404 or
 * 413 with a message that never echoes the request; anything else is a 500 with no detail (the log has the reason).
 * `onBadRequest` counts the client errors of /validate (the validate plugin's metric).
 */
export function errorHandler(logger: Logger, onBadRequest: (request: FastifyRequest, reason: string) => void) {
  return (err: FastifyError | HttpError, request: FastifyRequest, reply: FastifyReply) => {
    const status = err.statusCode ?? 500;
    if (err instanceof HttpError || (status >= 400 && status < 500)) {
      const code = status === 413 ? 413 : status === 404 ? 404 : 400;
      const reason = err instanceof HttpError ? err.reason : ((err as FastifyError).code ?? 'bad-request');
      onBadRequest(request, reason);
      if (!(err instanceof HttpError) || err.closeConnection) reply.header('connection', 'close');
      logger.debug({ reason, status: code }, 'bad request');
      return reply.code(code).send({ statusCode: code, error: code === 413 ? 'Payload Too Large' : 'Bad Request', message: err.message });
    }
    logger.error({ reason: err.message, code: (err as FastifyError).code }, 'internal error');
    return reply.code(500).send({ statusCode: 500, error: 'Internal Server Error', message: 'internal error' });
  };
}
