/**
 * A Kubernetes API server double for tests and benchmarks: one HTTPS server on 127.0.0.1 (HTTP/2 through ALPN, as
 * kube-apiserver, and HTTP/1.1 for clients that do not offer h2; `{ http2: false }` for HTTP/1.1 only) hosting any number of
 * "clusters", each under its own path prefix (`https://127.0.0.1:PORT/clusters/NAME`), speaking the real shapes:
 *
 *   GET /api                                   APIVersions
 *   GET /api/v1                                APIResourceList (with subresources such as pods/status)
 *   GET /apis                                  APIGroupList (versions + preferredVersion)
 *   GET /apis/GROUP/VERSION                    APIResourceList
 *   GET /api/v1/RESOURCE                       XList, cluster-wide      (?limit=N&continue=TOKEN)
 *   GET /api/v1/namespaces/NS/RESOURCE         XList, one namespace
 *   GET /apis/GROUP/VERSION[/namespaces/NS]/RESOURCE
 *
 * Lists carry `metadata.resourceVersion`, `metadata.continue` and `metadata.remainingItemCount` when paged; items of
 * built-in kinds come without apiVersion/kind (as the apiserver sends them), items of CRDs (Istio) with them.
 * Errors are `Status` objects as the apiserver writes them (401, 403, 404, 405, 410 Expired, 429 with Retry-After,
 * 500). Every request needs the cluster's bearer token (or, for `auth: 'client-cert'`, a client certificate).
 *
 * Faults are per cluster and can be changed at any time through `cluster.faults` (see {@link ClusterFaults}).
 * Every request is recorded in `double.requests` and `cluster.requests` (method, path, query, status, fault).
 *
 * Usage:
 *   const api = await startApiDouble();
 *   api.addCluster('par01', { objects: [...], faults: { latencyMs: 50 } });
 *   const file = api.writeKubeconfig(join(dir, 'kubeconfig'), ['par01']);   // one context per cluster, named like it
 *   ...
 *   await api.close();
 *
 * Split by concern: api-cluster.ts (resource types, a cluster's objects and records), api-lists.ts (discovery,
 * lists and paging), api-faults.ts (the faults), api-kubeconfig.ts (certificates, kubeconfig files),
 * api-status.ts (Status replies), api-samples.ts (a sample tenant cluster), api-watch.ts (watches, `onWatch`),
 * api-writes.ts (server-side apply and deletes). This file runs the server and re-exports the rest.
 */
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { DoubleCluster, type ClusterOptions, type RequestRecord } from './api-cluster.js';
import { failed, spoiled, stalled, type Timers } from './api-faults.js';
import { certificates, writeKubeconfig, type KubeconfigOptions } from './api-kubeconfig.js';
import { parseRoute, serve } from './api-lists.js';
import { gone, sendJson, status, tlsSockets as bySocketPorts } from './api-status.js';

export { DoubleCluster, RESOURCE_TYPES, type ClusterOptions, type RequestRecord, type ResourceType } from './api-cluster.js';
export type { ClusterFaults } from './api-faults.js';
export type { KubeconfigOptions } from './api-kubeconfig.js';
export { gone } from './api-status.js';
export { sampleObjects, SCAN_KINDS } from './api-samples.js';
export { status } from './api-status.js';

export interface ApiDouble {
  /** `https://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** PEM of the server certificate, which is its own CA. */
  readonly ca: string;
  /** A client certificate and key signed by the server's key (accepted by `auth: 'client-cert'` clusters). */
  readonly clientCert: { cert: string; key: string };
  /** Every request to every cluster, in arrival order. */
  readonly requests: RequestRecord[];
  /** Connections currently open to the double (all clusters). */
  openConnections(): number;
  /** Open connections by the protocol negotiated (`h2`, `http/1.1`; `pending` before the TLS handshake ends). */
  connectionsByProtocol(): Record<string, number>;
  addCluster(name: string, opts?: ClusterOptions): DoubleCluster;
  cluster(name: string): DoubleCluster;
  /** `https://127.0.0.1:PORT/clusters/NAME` */
  serverUrl(name: string): string;
  /** Serves `?watch=1` requests on list paths (see api-watch.ts); without one they are answered as lists. */
  onWatch(handler: WatchHandler): void;
  /** Writes a kubeconfig with one context (named like the cluster), cluster and user per name; returns the path. */
  writeKubeconfig(file: string, names: string[], opts?: KubeconfigOptions): string;
  close(): Promise<void>;
}

/** Takes over a watch request after authentication and the hang/drip faults (api-watch.ts implements one). */
export type WatchHandler = (cluster: DoubleCluster, route: { group: string; version: string; resource: string; namespace?: string }, url: URL, res: ServerResponse, rec: RequestRecord) => void;

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export interface DoubleOptions {
  /** Offer HTTP/2 through ALPN (default true); false serves HTTP/1.1 only, as a server without h2 would. */
  http2?: boolean;
}

/** The HTTPS server: HTTP/2 with HTTP/1.1 beside it (allowHTTP1), or HTTP/1.1 alone. */
function createServer(certs: Awaited<ReturnType<typeof certificates>>, h2: boolean, handle: (req: IncomingMessage, res: ServerResponse) => void) {
  const tlsOptions = { cert: certs.cert, key: certs.key, ca: [certs.cert], requestCert: true, rejectUnauthorized: false };
  if (!h2) {
    const server = https.createServer(tlsOptions, handle);
    server.keepAliveTimeout = 30_000;
    return server;
  }
  // the compatibility API hands over request/response objects shaped like node:http's (what api-*.ts are written on)
  const server = http2.createSecureServer({ ...tlsOptions, allowHTTP1: true, settings: { maxConcurrentStreams: 1000 } }, (req, res) => handle(req as unknown as IncomingMessage, res as unknown as ServerResponse));
  // an HTTP/2 session error (a client gone mid-frame) is the client's business; keep serving the others
  server.on('sessionError', () => {});
  return server;
}

/** What a running double answers from: shared by its request handling (below) and the handle startApiDouble returns. */
interface Serving {
  clusters: Map<string, DoubleCluster>;
  requests: RequestRecord[];
  timers: Timers;
  watchHandler?: WatchHandler;
  port: number;
}

/** Routes a request to its cluster, records it, and answers after the cluster's latency. */
function handle(d: Serving, req: IncomingMessage, res: ServerResponse): void {
  const { clusters, requests, timers } = d;
  const url = new URL(req.url ?? '/', 'https://double');
  const m = /^\/clusters\/([^/]+)(\/.*)?$/.exec(url.pathname);
  const cluster = m ? clusters.get(decodeURIComponent(m[1])) : undefined;
  if (!cluster) {
    sendJson(res, 404, status(404, 'NotFound', 'the server could not find the requested resource'));
    return;
  }
  const path = (m![2] ?? '/').replace(/\/+$/, '') || '/';
  const rec: RequestRecord = { cluster: cluster.name, method: req.method ?? 'GET', path, query: Object.fromEntries(url.searchParams), status: 0 };
  requests.push(rec);
  cluster.requests.push(rec);
  const f = cluster.faults;
  const go = () => {
    if (gone(res) || timers.closing()) return;
    respond(d, cluster, req, res, url, path, rec);
  };
  if (f.latencyMs && f.latencyMs > 0) timers.later(f.latencyMs, go);
  else go();
}

/** Authentication, the faults at each step, then writes, watches or reads (discovery and lists). */
function respond(d: Serving, cluster: DoubleCluster, req: IncomingMessage, res: ServerResponse, url: URL, path: string, rec: RequestRecord): void {
  const { timers, watchHandler } = d;
  const f = cluster.faults;
  const send = (code: number, body: unknown, headers: Record<string, string> = {}) => {
    rec.status = code;
    sendJson(res, code, body, headers);
  };
  // authentication first, as the apiserver does
  const authorized =
    cluster.auth === 'client-cert'
      ? (req.socket as TLSSocket).authorized === true
      : req.headers.authorization === `Bearer ${cluster.token}`;
  if (f.unauthorized || !authorized) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
  if (stalled(f, res, rec, timers)) return;
  if (req.method !== 'GET' && cluster.writes) return cluster.writes(req, path, send);
  if (req.method !== 'GET') return send(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));

  const route = parseRoute(path);
  const isList = route?.type === 'list';
  const watching = url.searchParams.get('watch');
  if (watchHandler && isList && (watching === '1' || watching === 'true')) return watchHandler(cluster, route, url, res, rec);
  if (failed(f, isList, req, rec, send)) return;
  const result = route ? serve(cluster, route, url, rec, d.port, req.headers.authorization) : { code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
  if (spoiled(f, isList, result, res, rec)) return;
  send(result.code, result.body, result.headers);
}


/** The double's timers: cleared, and no more started, once it closes. */
function doubleTimers(): Timers & { close(): void } {
  const pending = new Set<NodeJS.Timeout>();
  let closing = false;
  return {
    later(ms, fn) {
      const t = setTimeout(() => {
        pending.delete(t);
        fn();
      }, ms);
      pending.add(t);
    },
    closing: () => closing,
    close() {
      closing = true;
      for (const t of pending) clearTimeout(t);
      pending.clear();
    },
  };
}

/**
 * Every raw socket, so close() can end connections that are mid-handshake or hanging too, and the TLS ones by the
 * protocol they negotiated (registered by their ports, so that cutConnection can drop an HTTP/2 session's socket).
 */
function trackSockets(server: net.Server) {
  const raw = new Set<net.Socket>();
  const secured = new Set<TLSSocket>();
  server.on('connection', (s: net.Socket) => {
    raw.add(s);
    s.on('close', () => raw.delete(s));
  });
  server.on('secureConnection', (s: TLSSocket) => {
    secured.add(s);
    const key = `${s.localPort}:${s.remotePort}`;
    bySocketPorts.set(key, s);
    s.on('close', () => {
      secured.delete(s);
      if (bySocketPorts.get(key) === s) bySocketPorts.delete(key);
    });
  });
  return {
    raw,
    byProtocol() {
      const out: Record<string, number> = {};
      for (const s of secured) {
        const p = s.alpnProtocol || 'http/1.1';
        out[p] = (out[p] ?? 0) + 1;
      }
      if (raw.size > secured.size) out.pending = raw.size - secured.size;
      return out;
    },
  };
}

/**
 * Starts the double: the HTTPS server, the sockets it tracks (what `close()` ends) and the handle it returns. What
 * answers a request is handle/respond above and the api-*.ts modules; what is left here is wiring.
 */
export async function startApiDouble(opts: DoubleOptions = {}): Promise<ApiDouble> {
  const certs = await certificates();
  const clusters = new Map<string, DoubleCluster>();
  const requests: RequestRecord[] = [];
  const timers = doubleTimers();

  const d: Serving = { clusters, requests, timers, port: 0 };
  const server = createServer(certs, opts.http2 !== false, (req, res) => handle(d, req, res));
  const sockets = trackSockets(server);

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  d.port = port;
  const base = `https://127.0.0.1:${port}`;
  const serverUrl = (name: string) => `${base}/clusters/${encodeURIComponent(name)}`;
  const clusterNamed = (name: string) => {
    const c = clusters.get(name);
    if (!c) throw new Error(`api-double: no cluster ${name}`);
    return c;
  };

  return {
    url: base,
    port,
    ca: certs.cert,
    clientCert: { cert: certs.clientCert, key: certs.clientKey },
    requests,
    openConnections: () => sockets.raw.size,
    connectionsByProtocol: () => sockets.byProtocol(),
    addCluster(name, opts = {}) {
      if (clusters.has(name)) throw new Error(`api-double: cluster ${name} exists`);
      const c = new DoubleCluster(name, opts);
      clusters.set(name, c);
      return c;
    },
    cluster: clusterNamed,
    serverUrl,
    onWatch(handler) {
      d.watchHandler = handler;
    },
    writeKubeconfig(file, names, opts = {}) {
      return writeKubeconfig(file, names, opts, { certs, serverUrl, tokenOf: (n) => clusterNamed(n).token });
    },
    async close() {
      timers.close();
      for (const s of sockets.raw) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
