import type * as http from 'node:http';
import * as tls from 'node:tls';
import type { KubeObject } from '../src/index.js';
import { ClusterReadError } from '../scanner/live/errors.js';
import { TransportError } from '../scanner/live/http.js';
import { resolveKubeconfig, type KubeconfigTarget, type ResolvedKubeconfig } from '../scanner/live/kubeconfig.js';
import { redactSecret, Scrubber } from '../scanner/live/redact.js';
import { Transport } from './transport.js';

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

/**
 * The cluster's transport (watch/transport.ts): the kubeconfig read by the scanner's reader (client-node's
 * KubeConfig, with the same allowlist for exec plugins, auth-providers and token files), one TLS context for the
 * cluster, HTTP/2 when the server offers it.
 */
export async function connect(target: KubeconfigTarget, maxSockets: number): Promise<Transport> {
  let k: ResolvedKubeconfig;
  try {
    k = await resolveKubeconfig(target, new Scrubber());
  } catch (err) {
    throw new SyncError(err instanceof ClusterReadError ? err.message : 'the kubeconfig could not be read', 'kubeconfig');
  }
  const { cluster, url, o } = k;
  const headers = { ...k.headers };
  if (o.auth) headers.Authorization = `Basic ${Buffer.from(o.auth).toString('base64')}`;
  let secureContext: tls.SecureContext | undefined;
  if (url.protocol === 'https:' && !cluster.proxyUrl) {
    // One TLS context for the cluster's connections: without it every socket parses the CA and the client
    // certificate into a context of its own (~15 KiB each on HTTP/1.1, measured).
    try {
      secureContext = tls.createSecureContext({ ca: o.ca, cert: o.cert, key: o.key, pfx: o.pfx, passphrase: o.passphrase });
    } catch (err) {
      throw new SyncError(`the kubeconfig's certificate data is not usable (${(err as NodeJS.ErrnoException).code ?? 'invalid'})`, 'kubeconfig');
    }
  }
  return new Transport(
    {
      protocol: url.protocol as 'https:' | 'http:',
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      prefix: url.pathname.replace(/\/+$/, ''),
      headers,
      secureContext,
      servername: o.servername,
      rejectUnauthorized: o.rejectUnauthorized,
      proxyAgent: cluster.proxyUrl ? (o.agent as http.Agent) : undefined,
    },
    maxSockets,
  );
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

/** Largest body accepted for one response (a page of `limit` objects is far below this). */
const MAX_BODY = 128 * 1024 * 1024;

export async function getJson(conn: Transport, path: string, signal: AbortSignal, what: string): Promise<unknown> {
  let res: { status: number; body: string };
  try {
    res = await fetchText(conn, path, signal);
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

/** One whole response. */
function fetchText(conn: Transport, path: string, signal: AbortSignal): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new TransportError('aborted', 'ABORT_ERR'));
    let status = 0;
    const parts: string[] = [];
    let size = 0;
    const onAbort = () => {
      x.abort();
      reject(new TransportError('aborted', 'ABORT_ERR'));
    };
    const x = conn.get(path, {
      head: (s) => (status = s),
      data: (t) => {
        size += t.length;
        if (size > MAX_BODY) {
          x.abort();
          signal.removeEventListener('abort', onAbort);
          reject(new TransportError(`response larger than ${MAX_BODY} bytes`, 'ETOOBIG'));
        } else parts.push(t);
      },
      done: (err) => {
        signal.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve({ status, body: parts.join('') });
      },
    });
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A kind resolved to the REST path that lists and watches it. */
export interface Target {
  group: string;
  groupVersion: string;
  kind: string;
  path: string;
}

/** Resolves kinds to resource paths (one discovery document per group version); kinds not served are skipped with a warning. */
export async function discover(conn: Transport, kinds: readonly { apiVersion: string; kind: string }[], signal: AbortSignal, warnings: string[]): Promise<Target[]> {
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
export async function listAll(conn: Transport, t: Target, signal: AbortSignal, pageSize = 500): Promise<{ items: KubeObject[]; resourceVersion: string }> {
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
