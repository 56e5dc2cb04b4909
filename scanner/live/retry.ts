import { ClusterReadError, formatSeconds, HttpStatus, oneLine } from './errors.js';
import { httpGet, isTlsCode, MAX_BODY_BYTES, type Connection, type RawResponse, type TransportError } from './http.js';

/**
 * The request side of one cluster read: GETs with retries and backoff, one abort for everything in flight, and a
 * record of what is being done so that a timeout can say what it interrupted.
 */

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

export interface LiveReadStats {
  requests: number;
  retries: number;
  listRestarts: number;
  pages: number;
  /** Bytes of response bodies received. */
  bytes: number;
  /** List items received. */
  objects: number;
}

/** Per-cluster bounds: what one cluster may cost the scanner, whatever its API server sends. */
export interface ReadBudget {
  /** Largest single response body (default 128 MiB). */
  maxResponseBytes?: number;
  /** Response bytes in all for the cluster (default 1 GiB). */
  maxBytes?: number;
  /** List items in all for the cluster (default 1,000,000). */
  maxObjects?: number;
}

export const BUDGET_DEFAULTS: Required<ReadBudget> = { maxResponseBytes: MAX_BODY_BYTES, maxBytes: 1024 * 1024 * 1024, maxObjects: 1_000_000 };

export const RETRY_DEFAULTS: Required<RetryOptions> = {
  attempts: 5,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
  maxRetryAfterMs: 10_000,
  listRestarts: 3,
};

export class RequestSession {
  private readonly controller = new AbortController();
  /** Why the read stopped early, once it has. */
  private stopped?: ClusterReadError;
  private readonly inFlight = new Map<number, string>();
  private nextActivity = 0;
  conn?: Connection;
  readonly stats: LiveReadStats = { requests: 0, retries: 0, listRestarts: 0, pages: 0, bytes: 0, objects: 0 };
  readonly retry: Required<RetryOptions>;
  readonly budget: Required<ReadBudget>;

  constructor(retry: RetryOptions | undefined, budget: ReadBudget = {}) {
    this.budget = {
      maxResponseBytes: budget.maxResponseBytes ?? BUDGET_DEFAULTS.maxResponseBytes,
      maxBytes: budget.maxBytes ?? BUDGET_DEFAULTS.maxBytes,
      maxObjects: budget.maxObjects ?? BUDGET_DEFAULTS.maxObjects,
    };
    this.retry = {
      attempts: Math.max(1, retry?.attempts ?? RETRY_DEFAULTS.attempts),
      baseDelayMs: retry?.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs,
      maxDelayMs: retry?.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs,
      maxRetryAfterMs: retry?.maxRetryAfterMs ?? RETRY_DEFAULTS.maxRetryAfterMs,
      listRestarts: Math.max(0, retry?.listRestarts ?? RETRY_DEFAULTS.listRestarts),
    };
  }

  /** The reason the read was stopped (timeout, cancel, a fatal error of one list), if it was. */
  get stopReason(): ClusterReadError | undefined {
    return this.stopped;
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

  /** Stops the read: every request in flight and every later one rejects with `err`. */
  stop(err: ClusterReadError): void {
    if (this.stopped) return;
    this.stopped = err;
    this.controller.abort();
  }

  /** Ends whatever is still in flight (requests of a read that already failed) and closes the connections. */
  close(): void {
    if (!this.controller.signal.aborted) this.controller.abort();
    this.conn?.agent.destroy();
  }

  async track<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const id = this.nextActivity++;
    this.inFlight.set(id, what);
    try {
      return await this.abortable(fn());
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Counts list items received; throws once the cluster's object budget is spent (a server that pages forever). */
  countObjects(n: number, what: string): void {
    this.stats.objects += n;
    if (this.stats.objects > this.budget.maxObjects) {
      throw new ClusterReadError(`more than ${this.budget.maxObjects} objects (the per-cluster budget) ${what}: the server keeps sending list pages; stopped`, 'error');
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
  getJson(path: string, what: string): Promise<unknown> {
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
          res = await httpGet(conn, path, this.controller.signal, this.budget.maxResponseBytes);
        } catch (err) {
          if (this.stopped) throw this.stopped;
          const e = err as TransportError;
          const code = e.code ?? '';
          // the same request would bring the same body: asking again only costs the memory again
          if (code === 'ETOOBIG') throw new ClusterReadError(`${e.message} ${what}; not retried`, 'error');
          if (code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || isTlsCode(code)) {
            throw new ClusterReadError(`${e.message} (${what})`, 'unreachable');
          }
          retryReason = e.message;
          fatal = 'unreachable';
        }
        if (res) {
          this.stats.bytes += res.body.length;
          if (this.stats.bytes > this.budget.maxBytes) {
            throw new ClusterReadError(`more than ${this.budget.maxBytes} bytes of responses (the per-cluster budget) ${what}; stopped`, 'error');
          }
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
