import * as http from 'node:http';
import * as https from 'node:https';
import * as tls from 'node:tls';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../src/index.js';
import { httpGet, type Connection } from '../scanner/live/http.js';
import { redactSecret } from '../scanner/live/redact.js';

/**
 * The watch's side of the API: credentials from the kubeconfig through @kubernetes/client-node's KubeConfig (TLS,
 * client certificates, tokens, exec plugins), discovery of the resource behind each kind, and paged lists that
 * return the resourceVersion a watch resumes from. Read-only: get/list/watch.
 */

/** A failure with a bounded reason (it becomes the `reason` label of fleetgate_cluster_sync_errors_total). */
export class SyncError extends Error {
  constructor(
    message: string,
    readonly reason: SyncReason,
  ) {
    super(message);
  }
}

export type SyncReason =
  | 'unauthorized'
  | 'forbidden'
  | 'unreachable'
  | 'timeout'
  | 'server-error'
  | 'gone'
  | 'malformed-event'
  | 'dropped'
  | 'bad-response'
  | 'kubeconfig'
  | 'snapshot'
  | 'desired-render'
  | 'policy-error';

export const SYNC_REASONS: readonly SyncReason[] = [
  'unauthorized', 'forbidden', 'unreachable', 'timeout', 'server-error', 'gone', 'malformed-event', 'dropped',
  'bad-response', 'kubeconfig', 'snapshot', 'desired-render', 'policy-error',
];

export async function connect(kubeconfig: string, context: string | undefined, maxSockets: number): Promise<Connection> {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfig);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new SyncError(code === 'ENOENT' ? `kubeconfig ${kubeconfig} not found` : `kubeconfig ${kubeconfig} could not be loaded`, 'kubeconfig');
  }
  if (context) {
    if (!kc.getContextObject(context)) throw new SyncError(`context "${context}" is not in kubeconfig ${kubeconfig}`, 'kubeconfig');
    kc.setCurrentContext(context);
  }
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new SyncError(`kubeconfig ${kubeconfig} has no cluster for its context`, 'kubeconfig');
  let url: URL;
  try {
    url = new URL(cluster.server);
  } catch {
    throw new SyncError(`the kubeconfig's server address is not a URL`, 'kubeconfig');
  }
  const o: https.RequestOptions = {};
  try {
    await kc.applyToHTTPSOptions(o);
  } catch (err) {
    throw new SyncError(`could not obtain credentials from the kubeconfig's user (${err instanceof Error ? err.name : 'Error'})`, 'kubeconfig');
  }
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o.headers ?? {})) if (typeof v === 'string' || Array.isArray(v)) headers[k] = v;
  // One keep-alive agent per cluster; every watch stream holds a socket, so it must allow one per kind and then some.
  let agent: http.Agent;
  if (cluster.proxyUrl) agent = o.agent as http.Agent;
  else if (url.protocol === 'https:') {
    // One TLS context for the cluster's sockets (a watch stream per kind each holds one): without it every socket
    // parses the CA and the client certificate into a context of its own (~15 KiB each, measured).
    let secureContext: tls.SecureContext;
    try {
      secureContext = tls.createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase });
    } catch (err) {
      throw new SyncError(`the kubeconfig's certificate data is not usable (${(err as NodeJS.ErrnoException).code ?? 'invalid'})`, 'kubeconfig');
    }
    agent = new https.Agent({
      keepAlive: true,
      maxSockets,
      secureContext,
      servername: o.servername,
      ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
    });
  } else if (url.protocol === 'http:' && cluster.skipTLSVerify) agent = new http.Agent({ keepAlive: true, maxSockets });
  else throw new SyncError(`unsupported or insecure server address ${url.protocol}`, 'kubeconfig');
  return {
    protocol: url.protocol as 'https:' | 'http:',
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
    prefix: url.pathname.replace(/\/+$/, ''),
    headers,
    auth: o.auth ?? undefined,
    agent,
  };
}

/** Maps an HTTP status to a reason; 2xx returns undefined. */
export function statusReason(status: number): SyncReason | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 410) return 'gone';
  if (status === 429 || status >= 500) return 'server-error';
  return 'bad-response';
}

export async function getJson(conn: Connection, path: string, signal: AbortSignal, what: string): Promise<unknown> {
  let res;
  try {
    res = await httpGet(conn, path, signal);
  } catch (err) {
    if (signal.aborted) throw new SyncError(`${what}: stopped`, 'timeout');
    throw new SyncError(`${what}: ${(err as Error).message}`, 'unreachable');
  }
  const reason = statusReason(res.status);
  if (reason) {
    const hint = reason === 'unauthorized' ? ": check the kubeconfig's credentials" : '';
    throw new SyncError(`${what}: HTTP ${res.status}${hint}`, reason);
  }
  try {
    return JSON.parse(res.body) as unknown;
  } catch {
    throw new SyncError(`${what}: the response was not valid JSON`, 'bad-response');
  }
}

/** A kind resolved to the REST path that lists and watches it. */
export interface Target {
  group: string;
  groupVersion: string;
  kind: string;
  path: string;
}

/** Resolves kinds to resource paths (one discovery document per group version); kinds not served are skipped with a warning. */
export async function discover(conn: Connection, kinds: readonly { apiVersion: string; kind: string }[], signal: AbortSignal, warnings: string[]): Promise<Target[]> {
  const docs = new Map<string, Promise<{ name: string; kind: string; verbs?: string[] }[] | undefined>>();
  const resources = (gv: string) => {
    let p = docs.get(gv);
    if (!p) {
      const path = gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`;
      p = getJson(conn, path, signal, `discovery ${path}`).then(
        (d) => ((d as { resources?: unknown }).resources as { name: string; kind: string; verbs?: string[] }[]) ?? [],
        (err) => {
          if (err instanceof SyncError && (err.message.includes('HTTP 404') || err.reason === 'forbidden')) return undefined;
          throw err;
        },
      );
      docs.set(gv, p);
    }
    return p;
  };
  const out: Target[] = [];
  for (const k of kinds) {
    const list = await resources(k.apiVersion);
    const r = list?.find((x) => x.kind === k.kind && typeof x.name === 'string' && !x.name.includes('/'));
    if (!r) {
      warnings.push(`${k.apiVersion} ${k.kind}: not served by this cluster; skipped`);
      continue;
    }
    if (r.verbs && !(r.verbs.includes('list') && r.verbs.includes('watch'))) {
      warnings.push(`${k.apiVersion} ${k.kind}: the server does not allow list and watch on ${r.name}; skipped`);
      continue;
    }
    const slash = k.apiVersion.indexOf('/');
    const group = slash < 0 ? '' : k.apiVersion.slice(0, slash);
    const base = group ? `/apis/${k.apiVersion}` : `/api/${k.apiVersion}`;
    out.push({ group, groupVersion: k.apiVersion, kind: k.kind, path: `${base}/${r.name}` });
  }
  return out;
}

/** Gives a listed or watched item its apiVersion/kind (built-in kinds come without) and masks Secret values. */
export function normalize(item: KubeObject, t: Target): KubeObject {
  item.apiVersion = t.groupVersion;
  item.kind = t.kind;
  if (t.group === '' && t.kind === 'Secret') redactSecret(item);
  return item;
}

/** Every page of a list; the list's resourceVersion is where the watch starts. */
export async function listAll(conn: Connection, t: Target, signal: AbortSignal, pageSize = 500): Promise<{ items: KubeObject[]; resourceVersion: string }> {
  const items: KubeObject[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100_000; page++) {
    const q = `?limit=${pageSize}` + (token ? `&continue=${encodeURIComponent(token)}` : '');
    const doc = (await getJson(conn, t.path + q, signal, `listing ${t.groupVersion} ${t.kind}`)) as { items?: unknown; metadata?: { continue?: unknown; resourceVersion?: unknown } };
    if (!doc || !Array.isArray(doc.items)) throw new SyncError(`listing ${t.groupVersion} ${t.kind}: the answer is not a List`, 'bad-response');
    for (const item of doc.items as KubeObject[]) if (item && typeof item === 'object') items.push(normalize(item, t));
    const next = doc.metadata?.continue;
    if (typeof next !== 'string' || next === '') {
      const rv = doc.metadata?.resourceVersion;
      return { items, resourceVersion: typeof rv === 'string' ? rv : '' };
    }
    token = next;
  }
  throw new SyncError(`listing ${t.groupVersion} ${t.kind}: the list did not end`, 'bad-response');
}
