/**
 * A Kubernetes API server double for tests and benchmarks: one HTTPS server on 127.0.0.1 hosting any number of
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
 */
import * as https from 'node:https';
import * as net from 'node:net';
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { stringify } from 'yaml';
import { generate } from 'selfsigned';
import type { KubeObject } from '../src/index.js';

/** A resource type the double knows. Objects of kinds not listed here cannot be served. */
export interface ResourceType {
  group: string;
  /** Versions served, most preferred first. */
  versions: string[];
  kind: string;
  /** Plural resource name. */
  name: string;
  singularName: string;
  namespaced: boolean;
  /** A CRD: its list items carry apiVersion and kind. */
  crd?: boolean;
  shortNames?: string[];
  /** Subresources advertised in discovery (e.g. `status`). */
  subresources?: string[];
}

const rt = (group: string, versions: string[], kind: string, name: string, namespaced: boolean, extra: Partial<ResourceType> = {}): ResourceType => ({
  group,
  versions,
  kind,
  name,
  singularName: kind.toLowerCase(),
  namespaced,
  ...extra,
});

/** The resource types every cluster of the double serves unless told otherwise (`exclude`). */
export const RESOURCE_TYPES: readonly ResourceType[] = [
  rt('', ['v1'], 'Namespace', 'namespaces', false, { shortNames: ['ns'], subresources: ['status', 'finalize'] }),
  rt('', ['v1'], 'Pod', 'pods', true, { shortNames: ['po'], subresources: ['status', 'log', 'exec', 'eviction'] }),
  rt('', ['v1'], 'Service', 'services', true, { shortNames: ['svc'], subresources: ['status'] }),
  rt('', ['v1'], 'ConfigMap', 'configmaps', true, { shortNames: ['cm'] }),
  rt('', ['v1'], 'Secret', 'secrets', true),
  rt('', ['v1'], 'ServiceAccount', 'serviceaccounts', true, { shortNames: ['sa'], subresources: ['token'] }),
  rt('', ['v1'], 'ResourceQuota', 'resourcequotas', true, { shortNames: ['quota'], subresources: ['status'] }),
  rt('', ['v1'], 'LimitRange', 'limitranges', true, { shortNames: ['limits'] }),
  rt('apps', ['v1'], 'Deployment', 'deployments', true, { shortNames: ['deploy'], subresources: ['status', 'scale'] }),
  rt('apps', ['v1'], 'StatefulSet', 'statefulsets', true, { shortNames: ['sts'], subresources: ['status', 'scale'] }),
  rt('apps', ['v1'], 'DaemonSet', 'daemonsets', true, { shortNames: ['ds'], subresources: ['status'] }),
  rt('apps', ['v1'], 'ReplicaSet', 'replicasets', true, { shortNames: ['rs'], subresources: ['status', 'scale'] }),
  rt('batch', ['v1'], 'Job', 'jobs', true, { subresources: ['status'] }),
  rt('batch', ['v1'], 'CronJob', 'cronjobs', true, { shortNames: ['cj'], subresources: ['status'] }),
  rt('networking.k8s.io', ['v1'], 'NetworkPolicy', 'networkpolicies', true, { shortNames: ['netpol'] }),
  rt('rbac.authorization.k8s.io', ['v1'], 'Role', 'roles', true),
  rt('rbac.authorization.k8s.io', ['v1'], 'RoleBinding', 'rolebindings', true),
  rt('rbac.authorization.k8s.io', ['v1'], 'ClusterRole', 'clusterroles', false),
  rt('rbac.authorization.k8s.io', ['v1'], 'ClusterRoleBinding', 'clusterrolebindings', false),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'DestinationRule', 'destinationrules', true, { crd: true, shortNames: ['dr'], subresources: ['status'] }),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'ServiceEntry', 'serviceentries', true, { crd: true, shortNames: ['se'], subresources: ['status'] }),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'VirtualService', 'virtualservices', true, { crd: true, shortNames: ['vs'], subresources: ['status'] }),
  rt('networking.istio.io', ['v1', 'v1beta1'], 'Gateway', 'gateways', true, { crd: true, shortNames: ['gw'], subresources: ['status'] }),
  rt('security.istio.io', ['v1', 'v1beta1'], 'PeerAuthentication', 'peerauthentications', true, { crd: true, shortNames: ['pa'], subresources: ['status'] }),
  rt('security.istio.io', ['v1', 'v1beta1'], 'AuthorizationPolicy', 'authorizationpolicies', true, { crd: true, subresources: ['status'] }),
];

/**
 * Faults of one cluster. Counters (`serverErrors: 2`) apply to the next n matching requests and count down;
 * switches (`hang: true`) apply to every request while set. By default counted faults hit list requests only
 * (`faultOn: 'all'` makes them hit discovery too); `latencyMs`, `hang` and `drip` hit every request.
 */
export interface ClusterFaults {
  /** Delay before answering every request. */
  latencyMs?: number;
  /** Resources whose list answers 403 Forbidden: plural name, optionally with group (`deployments.apps`). */
  forbidden?: string[];
  /** Resources whose list answers 404 although discovery lists them (a CRD deleted after discovery). */
  notFound?: string[];
  /** Every request answers 401 Unauthorized. */
  unauthorized?: boolean;
  /** The next n list requests carrying a `continue` token answer 410 Expired. */
  goneOnContinue?: number;
  /** The next n requests answer 429 TooManyRequests with `Retry-After: retryAfterSeconds`. */
  tooManyRequests?: number;
  /** Retry-After of those 429s, in seconds (default 1; may be fractional in the header). */
  retryAfterSeconds?: number;
  /** The next n requests answer 500 InternalError. */
  serverErrors?: number;
  /** The next n requests: status and headers, half of the body, then the connection is destroyed. */
  resetMidBody?: number;
  /** The next n requests: a complete HTTP response (Content-Length matches) whose JSON is cut in half. */
  truncatedJson?: number;
  /** The next n requests: the connection is destroyed before any response. */
  dropConnection?: number;
  /** Every request is accepted and never answered. */
  hang?: boolean;
  /** Every request: headers, then one byte of body every `drip` ms, never finishing (a server that answers forever slowly). */
  drip?: number;
  /** A hostile server: 403 and 500 messages quote the request's Authorization header (tests that the reader scrubs it). */
  echoCredentials?: boolean;
  /** Which requests the counted faults hit (default `list`). */
  faultOn?: 'list' | 'all';
  /** A runaway server: every list page carries a fresh `continue` token, so paging never ends. */
  endlessContinue?: boolean;
  /** Values appended to every list's `items` (e.g. `[null, 5, 'x']`: items that are not objects). */
  extraItems?: unknown[];
}

export interface RequestRecord {
  cluster: string;
  method: string;
  /** Path below the cluster prefix, e.g. `/apis/apps/v1/deployments`. */
  path: string;
  query: Record<string, string>;
  status: number;
  /** The fault injected into this request, if any. */
  fault?: string;
}

export interface ClusterOptions {
  objects?: KubeObject[];
  /** The bearer token this cluster accepts (default: a random one). */
  token?: string;
  /** `client-cert`: authenticate by the client certificate of {@link ApiDouble.clientCert} instead of a token. */
  auth?: 'token' | 'client-cert';
  faults?: ClusterFaults;
  /** Groups (`networking.istio.io`), group versions (`networking.istio.io/v1beta1`) or kinds (`Deployment`) not served. */
  exclude?: string[];
  /** Extra resource types (e.g. another CRD). */
  types?: ResourceType[];
}

export class DoubleCluster {
  readonly requests: RequestRecord[] = [];
  objects: KubeObject[];
  token: string;
  auth: 'token' | 'client-cert';
  faults: ClusterFaults;
  exclude: string[];
  types: ResourceType[];
  /** Bumped by every change of `objects` through {@link setObjects}. */
  resourceVersion = 1000;
  /** Answers requests other than GET (see api-writes.ts); without it the double is read-only (405). */
  writes?: (req: IncomingMessage, path: string, send: (code: number, body: unknown) => void) => void;

  constructor(
    readonly name: string,
    opts: ClusterOptions,
  ) {
    this.objects = opts.objects ?? [];
    this.token = opts.token ?? `dbl-${name}-${randomBytes(12).toString('hex')}`;
    this.auth = opts.auth ?? 'token';
    this.faults = { ...(opts.faults ?? {}) };
    this.exclude = opts.exclude ?? [];
    this.types = [...RESOURCE_TYPES, ...(opts.types ?? [])];
  }

  setObjects(objects: KubeObject[]): void {
    this.objects = objects;
    this.resourceVersion++;
  }

  /** Resource types served, with only the versions served. */
  served(): ResourceType[] {
    const out: ResourceType[] = [];
    for (const t of this.types) {
      if (this.exclude.includes(t.kind) || (t.group && this.exclude.includes(t.group))) continue;
      const versions = t.versions.filter((v) => !this.exclude.includes(t.group ? `${t.group}/${v}` : v));
      if (versions.length) out.push({ ...t, versions });
    }
    return out;
  }
}

export interface KubeconfigOptions {
  /** Override the token written for every cluster (e.g. a wrong one). */
  token?: string;
  /** Write the double's client certificate and key as the user's credentials (for `auth: 'client-cert'` clusters). */
  clientCert?: boolean;
  /** Leave the certificate-authority out (the server's certificate is then untrusted). */
  omitCa?: boolean;
  /** Point every cluster at this server URL instead (e.g. a closed port). */
  server?: string;
}

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

let certCache: Promise<{ cert: string; key: string; clientCert: string; clientKey: string }> | undefined;

function certificates() {
  certCache ??= generate([{ name: 'commonName', value: 'fleetgate-api-double' }], {
    algorithm: 'sha256',
    keyType: 'ec',
    curve: 'P-256',
    notAfterDate: new Date(Date.now() + 7 * 24 * 3600 * 1000),
    clientCertificate: { cn: 'fleetgate-scanner', algorithm: 'sha256' },
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
      { name: 'subjectAltName', altNames: [{ type: 7, ip: '127.0.0.1' }, { type: 2, value: 'localhost' }] },
    ],
  }).then((r) => ({ cert: r.cert, key: r.private, clientCert: r.clientcert!, clientKey: r.clientprivate! }));
  return certCache;
}

/** A port on 127.0.0.1 that nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

export function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

export async function startApiDouble(): Promise<ApiDouble> {
  const certs = await certificates();
  const clusters = new Map<string, DoubleCluster>();
  const requests: RequestRecord[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let closing = false;
  let watchHandler: WatchHandler | undefined;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const server = https.createServer({ cert: certs.cert, key: certs.key, ca: [certs.cert], requestCert: true, rejectUnauthorized: false }, (req, res) => {
    handle(req, res);
  });
  server.keepAliveTimeout = 30_000;
  // every raw socket, so close() can end connections that are mid-handshake or hanging too
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  function handle(req: IncomingMessage, res: ServerResponse): void {
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
      if (res.destroyed || closing) return;
      respond(cluster, req, res, url, path, rec);
    };
    if (f.latencyMs && f.latencyMs > 0) later(f.latencyMs, go);
    else go();
  }

  function respond(cluster: DoubleCluster, req: IncomingMessage, res: ServerResponse, url: URL, path: string, rec: RequestRecord): void {
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

    if (f.hang) {
      rec.fault = 'hang';
      return; // never answered; closed when the client gives up or the double closes
    }
    if (f.drip && f.drip > 0) {
      rec.fault = 'drip';
      rec.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items: [] });
      let i = 0;
      const step = () => {
        // bounded: stops when the client goes away, the double closes, or after 100 000 bytes
        if (res.destroyed || closing || i >= 100_000) return;
        res.write(i < body.length - 1 ? body[i] : ' ');
        i++;
        later(f.drip!, step);
      };
      step();
      return;
    }
    if (req.method !== 'GET' && cluster.writes) return cluster.writes(req, path, send);
    if (req.method !== 'GET') return send(405, status(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`));

    const route = parseRoute(path);
    const isList = route?.type === 'list';
    const watching = url.searchParams.get('watch');
    if (watchHandler && isList && (watching === '1' || watching === 'true')) return watchHandler(cluster, route, url, res, rec);
    const counted = (key: 'serverErrors' | 'tooManyRequests' | 'resetMidBody' | 'truncatedJson' | 'dropConnection'): boolean => {
      const n = f[key];
      if (!n || n <= 0 || (!isList && f.faultOn !== 'all')) return false;
      f[key] = n - 1;
      rec.fault = key;
      return true;
    };
    if (counted('dropConnection')) {
      req.socket.destroy();
      return;
    }
    if (counted('tooManyRequests')) {
      const secs = f.retryAfterSeconds ?? 1;
      return send(429, status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: Math.ceil(secs) }), {
        'Retry-After': String(secs),
      });
    }
    if (counted('serverErrors')) {
      const echo = f.echoCredentials ? ` (request had Authorization: ${req.headers.authorization ?? 'none'})` : '';
      return send(500, status(500, 'InternalError', `Internal error occurred: etcdserver: request timed out${echo}`, { causes: [{ message: 'etcdserver: request timed out' }] }));
    }

    const result = route ? serve(cluster, route, url, rec, req.headers.authorization) : { code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
    if (result.code === 200 && counted('resetMidBody')) {
      const text = JSON.stringify(result.body);
      rec.status = 200;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => res.destroy());
      return;
    }
    if (result.code === 200 && counted('truncatedJson')) {
      const text = JSON.stringify(result.body);
      rec.status = 200;
      const cut = text.slice(0, Math.floor(text.length / 2));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(cut)) });
      res.end(cut);
      return;
    }
    send(result.code, result.body, result.headers);
  }

  function serve(cluster: DoubleCluster, route: Route, url: URL, rec: RequestRecord, authorization?: string): { code: number; body: unknown; headers?: Record<string, string> } {
    const served = cluster.served();
    const notFound = { code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
    if (route.type === 'core-versions') {
      return {
        code: 200,
        body: { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] },
      };
    }
    if (route.type === 'groups') {
      const groups = new Map<string, string[]>();
      for (const t of served) {
        if (!t.group) continue;
        const vs = groups.get(t.group) ?? [];
        for (const v of t.versions) if (!vs.includes(v)) vs.push(v);
        groups.set(t.group, vs);
      }
      return {
        code: 200,
        body: {
          kind: 'APIGroupList',
          apiVersion: 'v1',
          groups: [...groups].map(([name, vs]) => ({
            name,
            versions: vs.map((v) => ({ groupVersion: `${name}/${v}`, version: v })),
            preferredVersion: { groupVersion: `${name}/${vs[0]}`, version: vs[0] },
          })),
        },
      };
    }
    const types = served.filter((t) => t.group === route.group && t.versions.includes(route.version));
    const gv = route.group ? `${route.group}/${route.version}` : route.version;
    if (!types.length) return notFound;
    if (route.type === 'resources') {
      const resources: unknown[] = [];
      for (const t of types) {
        resources.push({
          name: t.name,
          singularName: t.singularName,
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          ...(t.shortNames ? { shortNames: t.shortNames } : {}),
          storageVersionHash: createHash('sha256').update(gv + t.name).digest('base64').slice(0, 11),
        });
        for (const s of t.subresources ?? []) resources.push({ name: `${t.name}/${s}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
      }
      return { code: 200, body: { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv, resources } };
    }
    // list
    const t = types.find((x) => x.name === route.resource);
    if (!t || (route.namespace && !t.namespaced)) return notFound;
    const f = cluster.faults;
    if (f.forbidden?.some((r) => r === t.name || r === `${t.name}.${t.group}`)) {
      const scope = route.namespace ? `in the namespace "${route.namespace}"` : 'at the cluster scope';
      return {
        code: 403,
        body: status(
          403,
          'Forbidden',
          `${t.group ? `${t.name}.${t.group}` : t.name} is forbidden: User "system:serviceaccount:fleetgate-system:fleetgate-scanner" cannot list resource "${t.name}" in API group "${t.group}" ${scope}${f.echoCredentials ? ` (Authorization: ${authorization ?? 'none'})` : ''}`,
          { ...(t.group ? { group: t.group } : {}), kind: t.name },
        ),
      };
    }
    if (f.notFound?.some((r) => r === t.name || r === `${t.name}.${t.group}`)) return notFound;
    const cont = url.searchParams.get('continue');
    if (cont && f.goneOnContinue && f.goneOnContinue > 0) {
      f.goneOnContinue--;
      rec.fault = 'goneOnContinue';
      return {
        code: 410,
        body: status(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        ),
      };
    }
    let start = 0;
    let rv = String(cluster.resourceVersion);
    if (cont) {
      try {
        const tok = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')) as { rv: string; start: number; r: string };
        if (tok.r !== `${gv}/${t.name}` || typeof tok.start !== 'number') throw new Error('bad');
        if (tok.rv !== rv) {
          rec.fault = 'stale-continue';
          return { code: 410, body: status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.') };
        }
        start = tok.start;
        rv = tok.rv;
      } catch {
        return { code: 400, body: status(400, 'BadRequest', 'continue key is not valid: illegal base64 data') };
      }
    }
    const all = cluster.objects
      .filter((o) => objectGroup(o) === t.group && o.kind === t.kind && (!route.namespace || o.metadata?.namespace === route.namespace))
      .sort((a, b) => key(a).localeCompare(key(b)));
    const limitRaw = Number(url.searchParams.get('limit') ?? '0');
    const limit = Number.isInteger(limitRaw) && limitRaw > 0 ? limitRaw : all.length || 1;
    const page = all.slice(start, start + limit);
    const end = start + page.length;
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    if (end < all.length) {
      metadata.continue = Buffer.from(JSON.stringify({ rv, start: end, r: `${gv}/${t.name}` })).toString('base64url');
      metadata.remainingItemCount = all.length - end;
    }
    const items: unknown[] = page.map((o, i) => listItem(o, t, gv, start + i));
    if (f.extraItems) items.push(...f.extraItems);
    if (f.endlessContinue) {
      // the same page again and again, each time with a token never seen before
      metadata.continue = Buffer.from(JSON.stringify({ rv, start, r: `${gv}/${t.name}`, n: randomBytes(6).toString('hex') })).toString('base64url');
      rec.fault = 'endlessContinue';
    }
    return { code: 200, body: { kind: `${t.kind}List`, apiVersion: gv, metadata, items } };
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
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
    openConnections: () => sockets.size,
    addCluster(name, opts = {}) {
      if (clusters.has(name)) throw new Error(`api-double: cluster ${name} exists`);
      const c = new DoubleCluster(name, opts);
      clusters.set(name, c);
      return c;
    },
    cluster: clusterNamed,
    serverUrl,
    onWatch(handler) {
      watchHandler = handler;
    },
    writeKubeconfig(file, names, opts = {}) {
      const b64 = (s: string) => Buffer.from(s).toString('base64');
      const doc = {
        apiVersion: 'v1',
        kind: 'Config',
        'current-context': names[0] ?? '',
        clusters: names.map((n) => ({
          name: n,
          cluster: { server: opts.server ?? serverUrl(n), ...(opts.omitCa ? {} : { 'certificate-authority-data': b64(certs.cert) }) },
        })),
        users: names.map((n) => ({
          name: `${n}-user`,
          user: opts.clientCert
            ? { 'client-certificate-data': b64(certs.clientCert), 'client-key-data': b64(certs.clientKey) }
            : { token: opts.token ?? clusterNamed(n).token },
        })),
        contexts: names.map((n) => ({ name: n, context: { cluster: n, user: `${n}-user` } })),
      };
      writeFileSync(file, stringify(doc), { mode: 0o600 });
      return file;
    },
    async close() {
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

type Route =
  | { type: 'core-versions' }
  | { type: 'groups' }
  | { type: 'resources'; group: string; version: string }
  | { type: 'list'; group: string; version: string; resource: string; namespace?: string };

function parseRoute(path: string): Route | undefined {
  const p = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (p[0] === 'api') {
    if (p.length === 1) return { type: 'core-versions' };
    const [, version, ...rest] = p;
    return tail('', version, rest);
  }
  if (p[0] === 'apis') {
    if (p.length === 1) return { type: 'groups' };
    if (p.length < 3) return undefined;
    const [, group, version, ...rest] = p;
    return tail(group, version, rest);
  }
  return undefined;
}

function tail(group: string, version: string, rest: string[]): Route | undefined {
  if (rest.length === 0) return { type: 'resources', group, version };
  if (rest.length === 1) return { type: 'list', group, version, resource: rest[0] };
  if (rest.length === 3 && rest[0] === 'namespaces') return { type: 'list', group, version, resource: rest[2], namespace: rest[1] };
  return undefined;
}

function objectGroup(o: KubeObject): string {
  const av = o.apiVersion ?? '';
  const i = av.indexOf('/');
  return i < 0 ? '' : av.slice(0, i);
}

function key(o: KubeObject): string {
  return `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** The object as the apiserver lists it: server-set metadata filled in (deterministically), apiVersion/kind only for CRDs. */
function listItem(o: KubeObject, t: ResourceType, gv: string, index: number): KubeObject {
  const copy = structuredClone(o);
  const meta = (copy.metadata ??= {});
  meta.uid ??= uidFor(t, o);
  meta.resourceVersion ??= String(100 + index);
  meta.creationTimestamp ??= '2024-01-01T00:00:00Z';
  if (t.crd) {
    copy.apiVersion = gv;
    copy.kind = t.kind;
    return copy;
  }
  delete copy.apiVersion;
  delete copy.kind;
  return copy;
}

function uidFor(t: ResourceType, o: KubeObject): string {
  const h = createHash('sha256').update(`${t.group}/${t.kind}/${key(o)}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}

/** A small but realistic tenant cluster: namespaces with quota, limits, default-deny, a deployment, pods, Istio config, a Secret. */
export function sampleObjects(opts: { namespaces?: number; podsPerNamespace?: number; secretValue?: string } = {}): KubeObject[] {
  const nsCount = opts.namespaces ?? 3;
  const pods = opts.podsPerNamespace ?? 2;
  const objs: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'istio-system' } },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: 'istio-system' },
      spec: { mtls: { mode: 'STRICT' } },
    },
  ];
  for (let i = 0; i < nsCount; i++) {
    const ns = `tenant-${String(i).padStart(2, '0')}`;
    objs.push(
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: { 'istio-injection': 'enabled', 'fleetgate.io/data-classification': 'internal' } } },
      { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota', namespace: ns }, spec: { hard: { 'requests.cpu': '4', 'requests.memory': '8Gi', pods: '20' } } },
      {
        apiVersion: 'v1',
        kind: 'LimitRange',
        metadata: { name: 'limits', namespace: ns },
        spec: { limits: [{ type: 'Container', default: { cpu: '500m', memory: '512Mi' }, defaultRequest: { cpu: '100m', memory: '128Mi' } }] },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'NetworkPolicy',
        metadata: { name: 'default-deny', namespace: ns },
        spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
      },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'web', namespace: ns, labels: { app: 'web' } },
        spec: {
          replicas: pods,
          selector: { matchLabels: { app: 'web' } },
          template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } },
        },
      },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name: 'web', namespace: ns },
        spec: { host: `web.${ns}.svc.cluster.local`, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
      },
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'db', namespace: ns },
        type: 'Opaque',
        data: { password: Buffer.from(opts.secretValue ?? `s3cret-${ns}`).toString('base64') },
      },
    );
    for (let p = 0; p < pods; p++) {
      objs.push({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: `web-${p}`, namespace: ns, labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '512Mi' } } }] },
      });
    }
  }
  return objs;
}

/** The kinds a fleet scan typically asks for (what sampleObjects holds, Secrets excluded). */
export const SCAN_KINDS: { apiVersion: string; kind: string }[] = [
  { apiVersion: 'v1', kind: 'Namespace' },
  { apiVersion: 'v1', kind: 'Pod' },
  { apiVersion: 'v1', kind: 'ResourceQuota' },
  { apiVersion: 'v1', kind: 'LimitRange' },
  { apiVersion: 'apps/v1', kind: 'Deployment' },
  { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy' },
  { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule' },
  { apiVersion: 'security.istio.io/v1', kind: 'PeerAuthentication' },
];
