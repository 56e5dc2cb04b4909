import type { KubeObject } from '../../src/index.js';
import { Discovery } from './discovery.js';
import { ClusterReadError, HttpStatus, oneLine } from './errors.js';
import { connect } from './kubeconfig.js';
import { listAll } from './list.js';
import { mapWithConcurrency } from './pool.js';
import { Scrubber } from './redact.js';
import { RequestSession, type LiveReadStats, type ReadBudget, type RetryOptions } from './retry.js';

export { REDACTED, redactIfSecret, redactSecret, redactText } from './redact.js';
export { mapWithConcurrency } from './pool.js';
export { ClusterReadError } from './errors.js';
export type { RetryOptions, LiveReadStats, ReadBudget } from './retry.js';
// the parts a long-running reader (watch) reuses: kubeconfig loading, discovery, paged listing, the request session
export { checkCredentialPlugins, connect, type KubeconfigTarget } from './kubeconfig.js';
export { Discovery, type Target } from './discovery.js';
export { listAll, type ListOptions } from './list.js';
export { RequestSession } from './retry.js';
export { Scrubber } from './redact.js';

/**
 * Live state of one cluster, read-only, through @kubernetes/client-node: the kubeconfig (contexts, TLS, client
 * certificates, tokens, exec/auth plugins) is handled by client-node's KubeConfig, and the reader issues plain GETs
 * with the options it derives, so that paging, retries, time budget and error text stay under our control.
 *
 * The parts: kubeconfig.ts (credentials → connection), retry.ts (GETs with retries, the abort and time budget),
 * discovery.ts (kinds → resources), list.ts (paged lists), pool.ts (bounded concurrency), redact.ts.
 *
 * RBAC it needs (and uses — nothing else): `get` on the non-resource URLs `/api`, `/api/*`, `/apis`, `/apis/*`
 * (discovery; granted to every authenticated user by the default `system:discovery` role) and `list` on each
 * resource read. See docs/reliability/scanner-live.md for the ClusterRole.
 */

export interface LiveReadOptions extends ReadBudget {
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
  /** Credential plugins allowed to run (kubeconfig.ts); none when absent. */
  allowExecPlugins?: readonly string[];
}

export interface LiveReadResult {
  objects: KubeObject[];
  /** Things worth telling that did not stop the read (a kind the server does not serve, a list that was forbidden). */
  warnings: string[];
  /** What the read did, for reports and benchmarks. */
  stats?: LiveReadStats;
}

const DEFAULTS = {
  timeoutMs: 30_000,
  pageSize: 500,
  listConcurrency: 4,
};

export async function readLiveCluster(opts: LiveReadOptions): Promise<LiveReadResult> {
  const scrubber = new Scrubber();
  const budget = opts.timeoutMs ?? DEFAULTS.timeoutMs;
  const session = new RequestSession(opts.retry, opts);
  const timer = setTimeout(() => session.expire(budget), budget);
  const onAbort = () => session.cancel();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (opts.signal?.aborted) session.cancel();
    return await read(opts, session, scrubber);
  } catch (err) {
    throw toClusterError(err, session, scrubber);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    session.close();
  }
}

async function read(opts: LiveReadOptions, session: RequestSession, scrubber: Scrubber): Promise<LiveReadResult> {
  const warnings: string[] = [];
  session.conn = await session.track('loading the kubeconfig credentials', () => connect(opts, scrubber));
  const targets = await new Discovery(session, warnings).resolveKinds(opts.kinds);
  const pageSize = opts.pageSize ?? DEFAULTS.pageSize;
  const forbidden: string[] = [];
  const pages = await mapWithConcurrency(targets, opts.listConcurrency ?? DEFAULTS.listConcurrency, async (t) => {
    try {
      return await listAll(session, t, { pageSize, warnings, forbidden });
    } catch (err) {
      // one list that cannot finish ends the read: stop the others instead of waiting for them
      if (err instanceof ClusterReadError) session.stop(err);
      throw err;
    }
  });
  if (targets.length > 0 && forbidden.length === targets.length) {
    // nothing could be read: an empty cluster would score as compliant, so this is the cluster's failure
    throw new ClusterReadError(`every list was forbidden (403): the scanner's identity lacks the RBAC verb "list" on ${targets.map((t) => (t.group ? `${t.resource}.${t.group}` : t.resource)).join(', ')}`, 'error');
  }
  return { objects: pages.flat(), warnings: warnings.map((w) => scrubber.scrub(w)), stats: session.stats };
}

function toClusterError(err: unknown, session: RequestSession, scrubber: Scrubber): ClusterReadError {
  const clean = (e: ClusterReadError) => {
    const msg = scrubber.scrub(e.message);
    return msg === e.message ? e : new ClusterReadError(msg, e.status);
  };
  if (session.stopReason) return clean(session.stopReason);
  if (err instanceof ClusterReadError) return clean(err);
  if (err instanceof HttpStatus) {
    // 403/404/410 where no caller expects them: on the discovery root documents
    const why = err.reason ? `: ${oneLine(err.reason)}` : '';
    return clean(new ClusterReadError(`API discovery failed with HTTP ${err.status}${why}`, 'error'));
  }
  const message = err instanceof Error ? err.message : String(err);
  return clean(new ClusterReadError(`unexpected failure: ${message.split('\n')[0]}`, 'error'));
}
