// A tiny Kubernetes API stand-in for the namespace cache: GET /api/v1/namespaces (NamespaceList) and the same with
// ?watch=true (a stream of watch events, one JSON object per line). HTTPS on 127.0.0.1, self-signed.
import { createServer, type Server } from 'node:https';
import type { ServerResponse } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface Namespace {
  apiVersion: 'v1';
  kind: 'Namespace';
  metadata: { name: string; labels?: Record<string, string>; resourceVersion?: string };
}

export class NamespaceApi {
  private server?: Server;
  private readonly watchers = new Set<ServerResponse>();
  private rv = 100;
  readonly namespaces = new Map<string, Namespace>();
  port = 0;
  lists = 0;
  watches = 0;

  constructor(private readonly tls: { cert: string; key: string }) {}

  async start(): Promise<void> {
    this.server = createServer({ cert: this.tls.cert, key: this.tls.key }, (req, res) => {
      const url = new URL(req.url ?? '/', 'https://localhost');
      if (req.method !== 'GET' || url.pathname !== '/api/v1/namespaces') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ kind: 'Status', code: 404 }));
        return;
      }
      if (url.searchParams.get('watch') === 'true') {
        this.watches++;
        res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
        res.flushHeaders();
        this.watchers.add(res);
        res.on('close', () => this.watchers.delete(res));
        return;
      }
      this.lists++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: String(this.rv) }, items: [...this.namespaces.values()] }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const a = this.server.address();
    this.port = typeof a === 'object' && a ? a.port : 0;
  }

  /** Sets a namespace before start (listed) or after (sent to watchers as ADDED/MODIFIED). */
  put(name: string, labels: Record<string, string>): void {
    const type = this.namespaces.has(name) ? 'MODIFIED' : 'ADDED';
    const ns: Namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels, resourceVersion: String(++this.rv) } };
    this.namespaces.set(name, ns);
    this.emit(type, ns);
  }

  remove(name: string): void {
    const ns = this.namespaces.get(name);
    if (!ns) return;
    this.namespaces.delete(name);
    this.emit('DELETED', { ...ns, metadata: { ...ns.metadata, resourceVersion: String(++this.rv) } });
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  private emit(type: string, object: Namespace): void {
    for (const w of this.watchers) w.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** A kubeconfig file pointing at this server, trusting its certificate. */
  async writeKubeconfig(dir: string): Promise<string> {
    const file = join(dir, 'kubeconfig.yaml');
    const ca = Buffer.from(this.tls.cert).toString('base64');
    await writeFile(
      file,
      `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
    server: https://127.0.0.1:${this.port}
    certificate-authority-data: ${ca}
users:
- name: test
  user:
    token: planted-bearer-token-0f3c9
contexts:
- name: test
  context: { cluster: test, user: test }
current-context: test
`,
    );
    return file;
  }

  async stop(): Promise<void> {
    for (const w of this.watchers) w.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }
}
