import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatHtml } from '../scanner/html.js';
import { formatJson } from '../scanner/report.js';
import type { FleetWatch } from './fleet-watch.js';
import type { WatchMetrics } from './metrics.js';

/** Plain HTTP, one port: /metrics, /healthz, /readyz, /report.json, /report.html (the writers `scan` uses). */
export async function startServer(fleet: FleetWatch, metrics: WatchMetrics, host: string, port: number): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (code: number, type: string, body: string) => {
      res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    try {
      switch (path) {
        case '/healthz':
          return send(200, 'text/plain', 'ok\n');
        case '/readyz': {
          const waiting = fleet.clusters.filter((c) => !c.settled).map((c) => c.name);
          return waiting.length
            ? send(503, 'text/plain', `waiting for the first sync of ${waiting.length} cluster(s): ${waiting.slice(0, 20).join(', ')}\n`)
            : send(200, 'text/plain', 'ready\n');
        }
        case '/report.json':
          return send(200, 'application/json', formatJson(fleet.report()));
        case '/report.html':
          return send(200, 'text/html; charset=utf-8', formatHtml(fleet.report()));
        case '/metrics':
          void metrics.registry.metrics().then(
            (text) => send(200, metrics.registry.contentType, text),
            (err) => send(500, 'text/plain', `metrics failed: ${(err as Error).message}\n`),
          );
          return;
        default:
          return send(404, 'text/plain', 'not found: try /metrics, /healthz, /readyz, /report.json or /report.html\n');
      }
    } catch (err) {
      send(500, 'text/plain', `internal error: ${(err as Error).message}\n`);
    }
  });
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${shown}:${addr.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
