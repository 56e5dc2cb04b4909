import * as http from 'node:http';
import * as https from 'node:https';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../src/index.js';
import { httpGet, isTlsCode, TransportError, type Connection, type RawResponse } from './http.js';
import { redactSecret, Scrubber } from './redact.js';

export { REDACTED } from './redact.js';
export { mapWithConcurrency } from './pool.js';

/**
 * Live state of one cluster, read-only, through @kubernetes/client-node: the kubeconfig (contexts, TLS, client
 * certificates, tokens, exec/auth plugins) is handled by client-node's KubeConfig, and the reader issues plain GETs
 * with the options it derives, so that paging, retries, time budget and error text stay under our control.
 *
 * RBAC it needs (and uses — nothing else): `get` on the non-resource URLs `/api`, `/api/*`, `/apis`, `/apis/*`
 * (discovery; granted to every authenticated user by the default `system:discovery` role) and `list` on each
 * resource read. See docs/reliability/scanner-live.md for the ClusterRole.
 */

export interface LiveReadOptions {
  /** Path of the kubeconfig file (`~` already expanded by the caller). */
  kubeconfig: string;
  /** Context to use; the kubeconfig's current context when absent. */
  context?: string;
  /** The kinds to list (what the repo declares and what policies need). */
  kinds: { apiVersion: string; kind: string }[];
  /** Budget for the whole cluster, in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Page size for list calls (`limit`, default 500). */
  pageSize?: number;
  signal?: AbortSignal;
  /** Retry tuning; the defaults suit real clusters, tests make them short. */
  retry?: RetryOptions;
  /** How many lists of one cluster run at once (default 4). */
  listConcurrency?: number;
}

export interface RetryOptions {
  /** Attempts per request, the first included (default 5). */
  attempts?: number;
  /** First backoff delay in ms; doubles per attempt, with full jitter (default 250). */
  baseDelayMs?: number;
  /** Longest backoff delay in ms (default 5 000). */
  maxDelayMs?: number;
  /** Longest wait honoured from a 429's Retry-After, in ms (default 10 000). */
  maxRetryAfterMs?: number;
  /** Times one list restarts from the beginning after 410 Gone (default 3). */
  listRestarts?: number;
}

export interface LiveReadResult {
  objects: KubeObject[];
  /** Things worth telling that did not stop the read (a kind the server does not serve, a list that was forbidden). */
  warnings: string[];
  /** What the read did, for reports and benchmarks. */
  stats?: LiveReadStats;
}

export interface LiveReadStats {
  requests: number;
  retries: number;
  listRestarts: number;
  pages: number;
}

/** A cluster that could not be read: `unreachable` (network, TLS, timeout) or `error` (the API answered, but not usefully). */
export class ClusterReadError extends Error {
  constructor(
    message: string,
    readonly status: 'unreachable' | 'error',
  ) {
    super(message);
    this.name = 'ClusterReadError';
  }
}

const DEFAULTS = {
  timeoutMs: 30_000,
  pageSize: 500,
  listConcurrency: 4,
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 10_000,
  listRestarts: 3,
};

interface ApiResource {
  name: string;
  kind: string;
  namespaced?: boolean;
  verbs?: string[];
}

/** A kind resolved to the REST resource that serves it. */
interface Target {
  group: string;
  groupVersion: string;
  kind: string;
  resource: string;
  /** `/api/v1/pods`, `/apis/apps/v1/deployments` */
  path: string;
  /** `apps/v1 deployments`, for messages */
  label: string;
}

export async function readLiveCluster(opts: LiveReadOptions): Promise<LiveReadResult> {
  const scrubber = new Scrubber();
  const budget = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const reader = new ClusterReader(opts, scrubber);
  const timer = setTimeout(() => reader.expire(budget), budget);
  const onAbort = () => reader.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (opts.signal?.aborted) reader.cancel();
    return await reader.read();
  } catch (err) {
    throw reader.toClusterError(err);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    reader.close();
  }
}

/** Thrown inside the reader when a list or discovery call gets a status the caller handles (403, 404, 410). */
class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`HTTP ${status}`);
  }
}

class ClusterReader {
  private readonly controller = new AbortController();
  /** Why the read stopped early, once it has. */
  private stopped?: ClusterReadError;
  private readonly inFlight = new Map<number, string>();
  private nextActivity = 0;
  private conn?: Connection;
  private readonly warnings: string[] = [];
  private readonly stats: LiveReadStats = { requests: 0, retries: 0, listRestarts: 0, pages: 0 };
  private readonly retry: Required<RetryOptions>;

  constructor(
    private readonly opts: LiveReadOptions,
    private readonly scrubber: Scrubber,
  ) {
    this.retry = {
      attempts: Math.max(1, opts.retry?.attempts ?? DEFAULTS.attempts),
      baseDelayMs: opts.retry?.baseDelayMs ?? DEFAULTS.baseDelayMs,
      maxDelayMs: opts.retry?.maxDelayMs ?? DEFAULTS.maxDelayMs,
      maxRetryAfterMs: opts.retry?.maxRetryAfterMs ?? DEFAULTS.maxRetryAfterMs,
      listRestarts: Math.max(0, opts.retry?.listRestarts ?? DEFAULTS.listRestarts),
    };
  }

  expire(budgetMs: number): void {
    if (this.stopped) return;
    const doing = this.inFlight.values().next();
    const what = doing.done ? 'connecting' : doing.value;
    this.stop(new ClusterReadError(`timed out after ${formatSeconds(budgetMs)} ${what}`, 'unreachable'));
  }

  cancel(): void {
    if (!this.stopped) this.stop(new ClusterReadError('read cancelled', 'error'));
  }

  private stop(err: ClusterReadError): void {
    this.stopped = err;
    this.controller.abort();
  }

  /** Ends whatever is still in flight (requests of a read that already failed) and closes the connections. */
  close(): void {
    if (!this.controller.signal.aborted) this.controller.abort();
    this.conn?.agent.destroy();
  }


  toClusterError(err: unknown): ClusterReadError {
    if (this.stopped) return this.clean(this.stopped);
    if (err instanceof ClusterReadError) return this.clean(err);
    if (err instanceof HttpStatus) {
      // 403/404/410 where no caller expects them: on the discovery root documents
      const why = err.reason ? `: ${oneLine(err.reason)}` : '';
      return this.clean(new ClusterReadError(`API discovery failed with HTTP ${err.status}${why}`, 'error'));
    }
    const message = err instanceof Error ? err.message : String(err);
    return this.clean(new ClusterReadError(`unexpected failure: ${message.split('\n')[0]}`, 'error'));
  }

  private clean(err: ClusterReadError): ClusterReadError {
    const msg = this.scrubber.scrub(err.message);
    return msg === err.message ? err : new ClusterReadError(msg, err.status);
  }

  async read(): Promise<LiveReadResult> {
    this.conn = await this.track('loading the kubeconfig credentials', () => this.connect());
    const targets = await this.resolveKinds();
    const pages: KubeObject[][] = new Array(targets.length);
    await this.runAll(targets, async (t, i) => {
      pages[i] = await this.listAll(t);
    });
    const objects = pages.flat();
    return { objects, warnings: this.warnings.map((w) => this.scrubber.scrub(w)), stats: this.stats };
  }

  // ---------------------------------------------------------------- connection

  private async connect(): Promise<Connection> {
    const { kubeconfig, context } = this.opts;
    const kc = new KubeConfig();
    try {
      kc.loadFromFile(kubeconfig);
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { mark?: { line?: number } };
      if (e.code === 'ENOENT') throw new ClusterReadError(`kubeconfig ${kubeconfig} not found`, 'error');
      // YAML errors quote the offending text, which may be a credential: keep only where it is.
      const where = e.mark?.line != null ? ` (line ${e.mark.line + 1})` : '';
      throw new ClusterReadError(`kubeconfig ${kubeconfig} could not be loaded${where}`, 'error');
    }
    if (context) {
      if (!kc.getContextObject(context)) throw new ClusterReadError(`context "${context}" is not in kubeconfig ${kubeconfig}`, 'error');
      kc.setCurrentContext(context);
    }
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new ClusterReadError(`kubeconfig ${kubeconfig} has no cluster for context "${context ?? kc.getCurrentContext()}"`, 'error');
    const user = kc.getCurrentUser();
    this.scrubber.add(user?.token);
    this.scrubber.add(user?.password);
    this.scrubber.add(user?.keyData);
    this.scrubber.add(user?.certData);

    let url: URL;
    try {
      url = new URL(cluster.server);
    } catch {
      throw new ClusterReadError(`the kubeconfig's server address is not a URL`, 'error');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new ClusterReadError(`unsupported server protocol ${url.protocol}`, 'error');

    const o: https.RequestOptions = {};
    try {
      await kc.applyToHTTPSOptions(o);
    } catch (err) {
      // auth plugins (exec, oidc) failed; their messages can carry command output, so only name the failure
      const name = err instanceof Error ? err.name : 'Error';
      throw new ClusterReadError(`could not obtain credentials from the kubeconfig's user (${name})`, 'error');
    }
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(o.headers ?? {})) {
      if (typeof v === 'string' || Array.isArray(v)) headers[k] = v;
      else if (typeof v === 'number') headers[k] = String(v);
    }
    for (const v of Object.values(headers)) for (const s of [v].flat()) this.scrubber.add(s.replace(/^(Bearer|Basic)\s+/i, ''));
    this.scrubber.add(o.key as Buffer | string | undefined);

    // Our own keep-alive agent with the same TLS material (client-node's agent does not keep connections alive);
    // a proxy agent from client-node is used as it is.
    let agent: http.Agent;
    if (cluster.proxyUrl) agent = o.agent as http.Agent;
    else if (url.protocol === 'https:') {
      agent = new https.Agent({
        keepAlive: true,
        maxSockets: 8,
        ca: o.ca,
        cert: o.cert,
        key: o.key,
        pfx: o.pfx,
        passphrase: o.passphrase,
        servername: o.servername,
        ...(o.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.rejectUnauthorized } : {}),
      });
    } else {
      if (!cluster.skipTLSVerify) throw new ClusterReadError('plain http is refused unless the kubeconfig sets insecure-skip-tls-verify', 'error');
      agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
    }
    return {
      protocol: url.protocol,
      hostname: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
      prefix: url.pathname.replace(/\/+$/, ''),
      headers,
      auth: o.auth ?? undefined,
      agent,
    };
  }

  // ---------------------------------------------------------------- discovery

  private coreVersions?: Promise<string[]>;
  private groups?: Promise<Map<string, { versions: string[]; preferred?: string }>>;
  private readonly resourceLists = new Map<string, Promise<ApiResource[] | undefined>>();

  private async resolveKinds(): Promise<Target[]> {
    const seen = new Map<string, Target>();
    const results: (Target | undefined)[] = [];
    // discovery documents are fetched once per cluster (memoised promises), so resolving in parallel is cheap
    const resolved = await Promise.all(this.opts.kinds.map((k) => this.resolveKind(k.apiVersion, k.kind)));
    for (const t of resolved) {
      if (!t || seen.has(t.path)) continue;
      seen.set(t.path, t);
      results.push(t);
    }
    return results.filter((t): t is Target => !!t);
  }

  private async resolveKind(apiVersion: string, kind: string): Promise<Target | undefined> {
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    let candidates: string[];
    if (group === '') {
      const versions = await this.coreApiVersions();
      candidates = versions.includes(version) ? [version, ...versions.filter((v) => v !== version)] : versions;
    } else {
      const g = (await this.apiGroups()).get(group);
      if (!g) {
        this.warnings.push(`${apiVersion} ${kind}: not served by this cluster (no API group "${group}"); skipped`);
        return undefined;
      }
      const order = [version, g.preferred, ...g.versions].filter((v): v is string => !!v && g.versions.includes(v));
      candidates = [...new Set(order)];
    }
    for (const v of candidates) {
      const gv = group ? `${group}/${v}` : v;
      const resources = await this.resourceList(gv);
      const r = resources?.find((x) => x.kind === kind && !x.name.includes('/'));
      if (!r) continue;
      if (r.verbs && !r.verbs.includes('list')) {
        this.warnings.push(`${gv} ${kind}: the server does not allow listing ${r.name}; skipped`);
        return undefined;
      }
      if (gv !== apiVersion) this.warnings.push(`${apiVersion} ${kind}: not served by this cluster; read as ${gv} instead`);
      const base = group ? `/apis/${gv}` : `/api/${v}`;
      return { group, groupVersion: gv, kind, resource: r.name, path: `${base}/${r.name}`, label: `${gv} ${r.name}` };
    }
    this.warnings.push(`${apiVersion} ${kind}: not served by this cluster; skipped`);
    return undefined;
  }

  private coreApiVersions(): Promise<string[]> {
    this.coreVersions ??= this.getJson('/api', 'reading API discovery /api').then((doc) => {
      const versions = (doc as { versions?: unknown }).versions;
      if (!Array.isArray(versions)) throw new ClusterReadError('the server answered /api with something that is not an APIVersions document', 'error');
      return versions.filter((v): v is string => typeof v === 'string');
    });
    return this.coreVersions;
  }

  private apiGroups(): Promise<Map<string, { versions: string[]; preferred?: string }>> {
    this.groups ??= this.getJson('/apis', 'reading API discovery /apis').then((doc) => {
      const groups = (doc as { groups?: unknown }).groups;
      if (!Array.isArray(groups)) throw new ClusterReadError('the server answered /apis with something that is not an APIGroupList', 'error');
      const out = new Map<string, { versions: string[]; preferred?: string }>();
      for (const g of groups as { name?: string; versions?: { version?: string }[]; preferredVersion?: { version?: string } }[]) {
        if (typeof g?.name !== 'string') continue;
        out.set(g.name, {
          versions: (g.versions ?? []).map((v) => v?.version).filter((v): v is string => typeof v === 'string'),
          preferred: g.preferredVersion?.version,
        });
      }
      return out;
    });
    return this.groups;
  }

  private resourceList(gv: string): Promise<ApiResource[] | undefined> {
    let p = this.resourceLists.get(gv);
    if (!p) {
      const path = gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`;
      p = this.getJson(path, `reading API discovery ${path}`).then(
        (doc) => {
          const resources = (doc as { resources?: unknown }).resources;
          if (!Array.isArray(resources)) throw new ClusterReadError(`the server answered ${path} with something that is not an APIResourceList`, 'error');
          return resources.filter((r): r is ApiResource => typeof r?.name === 'string' && typeof r?.kind === 'string');
        },
        (err) => {
          // a group version that vanished (404) or that we may not see (403) serves nothing we can read
          if (err instanceof HttpStatus && (err.status === 404 || err.status === 403)) {
            if (err.status === 403) this.warnings.push(`${gv}: discovery forbidden (RBAC verb "get" on ${path} is missing); its kinds are skipped`);
            return undefined;
          }
          throw err;
        },
      );
      this.resourceLists.set(gv, p);
    }
    return p;
  }

  // ---------------------------------------------------------------- lists

  private async listAll(t: Target): Promise<KubeObject[]> {
    const limit = Math.max(1, Math.floor(this.opts.pageSize ?? DEFAULTS.pageSize));
    for (let restart = 0; ; restart++) {
      const items: KubeObject[] = [];
      let token: string | undefined;
      let gone = false;
      for (let page = 0; ; page++) {
        if (page > 1_000_000) throw new ClusterReadError(`listing ${t.label} did not end after a million pages`, 'error');
        const q = `?limit=${limit}` + (token ? `&continue=${encodeURIComponent(token)}` : '');
        let doc: unknown;
        try {
          doc = await this.getJson(t.path + q, `listing ${t.label}`);
        } catch (err) {
          if (!(err instanceof HttpStatus)) throw err;
          if (err.status === 403) {
            const gr = t.group ? `${t.resource}.${t.group}` : t.resource;
            this.warnings.push(`${t.groupVersion} ${t.kind}: forbidden — the scanner's identity lacks the RBAC verb "list" on ${gr} (cluster-wide); skipped`);
            return [];
          }
          if (err.status === 404) {
            this.warnings.push(`${t.groupVersion} ${t.kind}: the server no longer serves ${t.resource} (404 on list); skipped`);
            return [];
          }
          if (err.status === 410) {
            gone = true;
            break;
          }
          throw err;
        }
        const list = doc as { items?: unknown; metadata?: { continue?: unknown } };
        if (!list || typeof list !== 'object' || !Array.isArray(list.items)) {
          throw new ClusterReadError(`the server answered the list of ${t.label} with something that is not a List`, 'error');
        }
        this.stats.pages++;
        for (const item of list.items as KubeObject[]) {
          if (!item || typeof item !== 'object') continue;
          item.apiVersion = t.groupVersion;
          item.kind = t.kind;
          if (t.group === '' && t.kind === 'Secret') redactSecret(item);
          items.push(item);
        }
        const next = list.metadata?.continue;
        if (typeof next !== 'string' || next === '') return items;
        if (next === token) throw new ClusterReadError(`the server repeated the same continue token listing ${t.label}`, 'error');
        token = next;
      }
      if (gone) {
        if (restart >= this.retry.listRestarts) {
          throw new ClusterReadError(`listing ${t.label}: the continue token kept expiring (410 Gone); gave up after ${restart + 1} attempts at the list`, 'error');
        }
        this.stats.listRestarts++;
      }
    }
  }

  // ---------------------------------------------------------------- requests

  private async track<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const id = this.nextActivity++;
    this.inFlight.set(id, what);
    try {
      return await this.abortable(fn());
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Settles when `p` does, or rejects as soon as the read is stopped. */
  private abortable<T>(p: Promise<T>): Promise<T> {
    const signal = this.controller.signal;
    if (signal.aborted) return Promise.reject(this.stopped);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(this.stopped);
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /**
   * GET a JSON document with retries. Returns the parsed body of a 200; throws HttpStatus for 403/404/410 (the
   * caller decides), ClusterReadError for everything that ends the read.
   */
  private getJson(path: string, what: string): Promise<unknown> {
    return this.track(what, async () => {
      const conn = this.conn!;
      const max = this.retry.attempts;
      for (let attempt = 1; ; attempt++) {
        let res: RawResponse | undefined;
        let retryReason = '';
        let retryAfterMs: number | undefined;
        let fatal: 'unreachable' | 'error' = 'error';
        this.stats.requests++;
        try {
          res = await httpGet(conn, path, this.controller.signal);
        } catch (err) {
          if (this.stopped) throw this.stopped;
          const e = err as TransportError;
          const code = e.code ?? '';
          if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || isTlsCode(code)) {
            throw new ClusterReadError(`${e.message} (${what})`, 'unreachable');
          }
          retryReason = e.message;
          fatal = 'unreachable';
        }
        if (res) {
          if (res.status >= 200 && res.status < 300) {
            try {
              return JSON.parse(res.body) as unknown;
            } catch {
              retryReason = 'the response was not valid JSON (truncated?)';
            }
          } else {
            const st = parseStatus(res.body);
            const detail = st.message ? `: ${oneLine(st.message)}` : '';
            if (res.status === 401) throw new ClusterReadError(`unauthorized: check the kubeconfig's credentials (401 ${what})`, 'error');
            if (res.status === 403 || res.status === 404 || res.status === 410) throw new HttpStatus(res.status, st.message ?? '');
            if (res.status === 429) {
              retryReason = `too many requests (429)${detail}`;
              retryAfterMs = parseRetryAfter(res.headers['retry-after'], st.retryAfterSeconds);
            } else if (res.status >= 500) {
              retryReason = `server error ${res.status}${detail}`;
            } else {
              throw new ClusterReadError(`unexpected HTTP ${res.status} ${what}${detail}`, 'error');
            }
          }
        }
        if (attempt >= max) {
          throw new ClusterReadError(`${retryReason} — gave up after ${attempt} attempts ${what}`, fatal);
        }
        this.stats.retries++;
        const backoff = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
        const delay = retryAfterMs !== undefined ? Math.min(retryAfterMs, this.retry.maxRetryAfterMs) : Math.random() * backoff;
        await this.sleep(delay);
      }
    });
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.controller.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) return reject(this.stopped);
      const onAbort = () => {
        clearTimeout(timer);
        reject(this.stopped);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Runs fn over items, `listConcurrency` at a time; the first failure stops the others. */
  private async runAll<T>(items: T[], fn: (item: T, index: number) => Promise<void>): Promise<void> {
    let next = 0;
    let failure: unknown;
    const n = Math.max(1, Math.min(items.length, this.opts.listConcurrency ?? DEFAULTS.listConcurrency));
    const worker = async () => {
      while (failure === undefined && next < items.length) {
        const i = next++;
        try {
          await fn(items[i], i);
        } catch (err) {
          if (failure === undefined) {
            failure = err ?? new Error('failed');
            if (err instanceof ClusterReadError && !this.stopped) this.stop(err);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
    if (failure !== undefined) throw failure;
  }
}

function parseStatus(body: string): { message?: string; retryAfterSeconds?: number } {
  try {
    const s = JSON.parse(body) as { kind?: string; message?: unknown; details?: { retryAfterSeconds?: unknown } };
    if (s && s.kind === 'Status') {
      return {
        message: typeof s.message === 'string' ? s.message : undefined,
        retryAfterSeconds: typeof s.details?.retryAfterSeconds === 'number' ? s.details.retryAfterSeconds : undefined,
      };
    }
  } catch {
    /* not a Status */
  }
  return {};
}

function parseRetryAfter(header: string | string[] | undefined, fromBody: number | undefined): number | undefined {
  const h = Array.isArray(header) ? header[0] : header;
  if (h !== undefined) {
    const secs = Number(h);
    if (Number.isFinite(secs) && secs >= 0) return secs * 1000;
    const date = Date.parse(h);
    if (!Number.isNaN(date)) return Math.max(0, date - Date.now());
  }
  return fromBody !== undefined && fromBody >= 0 ? fromBody * 1000 : undefined;
}

function oneLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(s < 1 ? 2 : 1))}s`;
}

