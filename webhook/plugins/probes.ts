import type { FastifyPluginCallback } from 'fastify';

export interface ProbesOptions {
  /** Whether the policies are loaded (a handler exists). */
  loaded: () => boolean;
  /** Extra readiness condition (the namespace cache's first sync). */
  dependenciesReady?: () => boolean;
  /** Whether the server is shutting down. */
  closing: () => boolean;
}

/** GET /healthz (the process is up) and GET /readyz (503 until loaded and synced, and again while shutting down). */
export const probesPlugin: FastifyPluginCallback<ProbesOptions> = (app, opts, done) => {
  app.get('/healthz', async () => 'ok\n');
  app.get('/readyz', async (_request, reply) => {
    const synced = opts.dependenciesReady?.() ?? true;
    const loaded = opts.loaded();
    const closing = opts.closing();
    if (loaded && synced && !closing) return 'ok\n';
    reply.code(503);
    return closing ? 'shutting down\n' : !loaded ? 'policies not loaded yet\n' : 'namespace cache not synced yet\n';
  });
  done();
};
