import { setMaxListeners } from 'node:events';
import type { KubeObject } from '../src/index.js';
import type { Source, WatchedCluster } from './cluster.js';
import { connect, discover, listAll, SyncError, type Target } from './kube.js';
import { openWatch } from './stream.js';
import type { Transport } from './transport.js';

/**
 * A live cluster, informer-style: discover, list every kind (paged) within the cluster's budget, then one watch
 * stream per kind from the list's resourceVersion. A stream that ends normally resumes at once from the last
 * resourceVersion (bookmarks keep it fresh); one that drops resumes after a backoff with jitter; 410 Gone relists
 * that kind only (the informer's Replace). Losing credentials, or a stream that cannot be reopened three times in
 * a row, makes the cluster `down` with the reason; the whole cycle then starts again after a backoff (up to a minute).
 */

export interface LiveOptions {
  kubeconfig: string;
  context?: string;
  /** Credential plugins and token files the operator allowed (the fleet's allowExecPlugins, as `scan` takes them). */
  allowExecPlugins?: readonly string[];
  /** The kinds to list and watch (asked at each full sync: a new desired state may name new kinds). */
  kinds: () => { apiVersion: string; kind: string }[];
  /** Budget for discovery + the initial list of all kinds. */
  budgetMs: number;
  /** Server-side watch timeout asked for. */
  watchTimeoutSeconds: number;
  /** A stream with no byte for this long is dead (bookmarks arrive about once a minute from a real API server). */
  idleMs: number;
  /** Limits how many clusters do their initial list at once (fleet-wide). */
  gate: Gate;
  /** Backoff base and cap, ms. */
  backoffMs?: { base: number; max: number };
}

/** A counting semaphore: initial lists of a big fleet are spread over a few slots. */
export class Gate {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(slots: number) {
    this.free = slots;
  }
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const FATAL = new Set(['unauthorized', 'forbidden', 'unreachable', 'kubeconfig']);

/** Full jitter: anywhere from 0 to base·2^attempt, capped. */
export function backoff(attempt: number, base: number, max: number): number {
  return Math.random() * Math.min(max, base * 2 ** Math.min(attempt, 20));
}

interface Stream {
  target: Target;
  rv: string;
  close?: () => void;
  /** Consecutive failures to (re)open. */
  failures: number;
  timer?: NodeJS.Timeout;
}

export class LiveSource implements Source {
  private conn?: Transport;
  private streams: Stream[] = [];
  private cycle?: AbortController;
  private wake?: () => void;
  private stopped = false;
  private running?: Promise<void>;
  private readonly base: number;
  private readonly max: number;

  constructor(
    private readonly wc: WatchedCluster,
    private readonly o: LiveOptions,
  ) {
    this.base = o.backoffMs?.base ?? 500;
    this.max = o.backoffMs?.max ?? 60_000;
  }

  start(): void {
    this.running = this.loop();
  }

  resync(): void {
    this.endCycle('resync');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.endCycle('stop');
    await this.running;
    this.conn?.close();
  }

  private endCycle(why: 'resync' | 'fatal' | 'stop' = 'resync'): void {
    if (this.cycle && !this.cycle.signal.aborted) this.cycle.abort(why);
    for (const s of this.streams) {
      clearTimeout(s.timer);
      s.close?.();
    }
    this.streams = [];
    this.wake?.();
  }

  private async loop(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      const cycle = (this.cycle = new AbortController());
      setMaxListeners(0, cycle.signal); // every list and relist of the cycle listens to it, one per kind at once
      const ended = new Promise<void>((r) => (this.wake = r));
      const began = Date.now();
      try {
        await this.syncOnce(cycle);
        await ended; // watching until a resync, a fatal stream failure or stop
      } catch (err) {
        // a resync or stop that cut a list short is not a failure of the cluster
        if (!this.stopped && cycle.signal.reason !== 'resync') {
          const e = err instanceof SyncError ? err : new SyncError(String((err as Error)?.message ?? err), 'bad-response');
          this.failed(e);
        }
      }
      if (this.stopped || this.wc.health !== 'down') continue;
      if (Date.now() - began > 60_000) attempt = 0; // it worked for a while: start the backoff over
      await this.sleep(backoff(attempt++, this.base, this.max));
    }
  }

  private failed(e: SyncError): void {
    this.wc.failed(e.reason, e.message);
    if (this.conn && FATAL.has(e.reason)) {
      this.conn.close();
      this.conn = undefined; // credentials may have been rotated: read the kubeconfig again
    }
  }

  private async syncOnce(cycle: AbortController): Promise<void> {
    let started = Date.now();
    let budget: NodeJS.Timeout | undefined;
    try {
      const { objects, warnings, streams } = await this.o.gate.run(async () => {
        if (cycle.signal.aborted) throw new SyncError('stopped', 'timeout');
        // the budget starts when the cluster's turn comes, not while it waits for a slot
        started = Date.now();
        budget = setTimeout(() => cycle.abort('budget'), this.o.budgetMs);
        const kinds = this.o.kinds();
        this.conn ??= await connect({ kubeconfig: this.o.kubeconfig, context: this.o.context, allowExecPlugins: this.o.allowExecPlugins }, kinds.length + 8);
        const warnings: string[] = [];
        const targets = await discover(this.conn, kinds, cycle.signal, warnings);
        const objects: KubeObject[] = [];
        const streams: Stream[] = [];
        for (const target of targets) {
          const list = await this.listWithRestarts(target, cycle.signal);
          objects.push(...list.items);
          streams.push({ target, rv: list.resourceVersion, failures: 0 });
        }
        return { objects, warnings, streams };
      });
      clearTimeout(budget);
      if (cycle.signal.aborted) throw new SyncError('stopped', 'timeout');
      await this.wc.replaceAll(objects, warnings);
      if (cycle.signal.aborted || this.stopped) return;
      this.streams = streams;
      for (const s of streams) this.open(s, cycle);
    } catch (err) {
      if (cycle.signal.reason === 'budget') {
        throw new SyncError(`timed out after ${Math.round((Date.now() - started) / 1000)}s listing the cluster (budget ${this.o.budgetMs / 1000}s)`, 'timeout');
      }
      throw err;
    } finally {
      clearTimeout(budget);
    }
  }

  /** A list whose continue token expires (410) starts again from the first page, a few times. */
  private async listWithRestarts(t: Target, signal: AbortSignal) {
    for (let i = 0; ; i++) {
      try {
        return await listAll(this.conn!, t, signal);
      } catch (err) {
        if (!(err instanceof SyncError) || err.reason !== 'gone' || i >= 3) throw err;
      }
    }
  }

  private open(s: Stream, cycle: AbortController): void {
    if (cycle.signal.aborted || this.stopped) return;
    const w = openWatch(
      this.conn!,
      s.target,
      s.rv,
      {
        opened: () => {
          s.failures = 0;
        },
        event: (type, obj) => {
          void this.wc.event(type, obj);
        },
        progress: (rv) => {
          s.rv = rv;
        },
        malformed: () => {
          // an event we could not read may have been a change: count it, and relist the kind to be sure
          this.wc.problem('malformed-event');
          s.close?.();
        },
        end: (err) => {
          s.close = undefined;
          if (cycle.signal.aborted || this.stopped) return;
          if (!err) return this.open(s, cycle); // the server's timeout: resume from the last resourceVersion
          this.wc.problem(err.reason);
          if (err.reason === 'gone' || err.reason === 'malformed-event') return void this.relist(s, cycle);
          if (FATAL.has(err.reason) || ++s.failures >= 3) return this.fatal(err);
          s.timer = setTimeout(() => this.open(s, cycle), backoff(s.failures, this.base, this.max));
        },
      },
      { timeoutSeconds: this.o.watchTimeoutSeconds, idleMs: this.o.idleMs },
    );
    s.close = w.close;
  }

  /** 410 Gone: the resourceVersion is too old; list this kind again and replace what is known of it. */
  private async relist(s: Stream, cycle: AbortController): Promise<void> {
    try {
      const list = await this.listWithRestarts(s.target, cycle.signal);
      if (cycle.signal.aborted) return;
      await this.wc.replaceKind(s.target.group, s.target.kind, list.items);
      s.rv = list.resourceVersion;
      s.failures = 0;
      this.open(s, cycle);
    } catch (err) {
      if (cycle.signal.aborted) return;
      const e = err instanceof SyncError ? err : new SyncError(String(err), 'bad-response');
      if (FATAL.has(e.reason) || ++s.failures >= 3) return this.fatal(e);
      this.wc.problem(e.reason);
      s.timer = setTimeout(() => void this.relist(s, cycle), backoff(s.failures, this.base, this.max));
    }
  }

  private fatal(err: SyncError): void {
    this.failed(err);
    this.endCycle('fatal'); // the loop backs off, then lists again from scratch
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
  }
}
