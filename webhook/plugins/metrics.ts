import type { FastifyPluginCallback } from 'fastify';
import type { WebhookMetrics } from '../metrics.js';

/** GET /metrics: the webhook's registry in the Prometheus text format (hot-path counts are flushed on the way). */
export const metricsPlugin: FastifyPluginCallback<{ metrics: WebhookMetrics }> = (app, { metrics }, done) => {
  app.get('/metrics', async (_request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });
  done();
};
