import type { KubeObject } from '../src/index.js';
import { normalize, statusReason, SyncError, type Target } from './kube.js';
import type { Transport } from './transport.js';

/**
 * One watch stream (`?watch=1&resourceVersion=RV&allowWatchBookmarks=true`): newline-delimited JSON events.
 * Written on watch/transport.ts (HTTP/2 or HTTP/1.1) rather than client-node's `Watch` because the watch needs two things that one lacks:
 * a malformed line must be *seen* (client-node drops it silently, and a lost event would be lost drift), and a
 * stream that goes quiet must be noticed (an idle deadline: the server sends bookmarks, so silence means a dead
 * connection).
 */

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StreamHandlers {
  /** The server accepted the watch (200). */
  opened(): void;
  event(type: WatchEventType, object: KubeObject): void;
  /** A bookmark or any event moved the resourceVersion. */
  progress(resourceVersion: string): void;
  /** A line that is not a watch event: the stream goes on, the caller relists the kind to be sure. */
  malformed(detail: string): void;
  /** The stream ended: `err` undefined for a normal end (server timeout), else why. Called once. */
  end(err?: SyncError): void;
}

export interface StreamOptions {
  /** Server-side timeout asked for, at least (the server ends the stream, the client resumes): see watchTimeout. */
  timeoutSeconds: number;
  /** No byte for this long: the stream is dead. */
  idleMs: number;
}

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

/**
 * The timeout one watch request asks for: anywhere from `min` to 2·`min` seconds, as client-go's reflector asks.
 * The ~20 streams of each of hundreds of clusters open within the same minute of the initial sync; with one fixed
 * timeout they would all end and reopen (and replay their events) together, every `min` seconds, a load spike that
 * delays every change arriving in it. Spread at random, the reopens stay spread.
 */
export const watchTimeout = (min: number, random: () => number = Math.random): number => Math.round(min * (1 + random()));

export function openWatch(conn: Transport, t: Target, resourceVersion: string, h: StreamHandlers, o: StreamOptions): { close(): void } {
  let ended = false;
  let idle: NodeJS.Timeout | undefined;
  const finish = (err?: SyncError) => {
    if (ended) return;
    ended = true;
    clearTimeout(idle);
    x.abort();
    h.end(err);
  };
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => finish(new SyncError(`watch of ${t.kind} was silent for ${Math.round(o.idleMs / 1000)}s`, 'timeout')), o.idleMs);
    idle.unref();
  };
  const lines = new LineReader(t, h, finish);
  const q = `?watch=1&allowWatchBookmarks=true&timeoutSeconds=${watchTimeout(o.timeoutSeconds)}` + (resourceVersion ? `&resourceVersion=${encodeURIComponent(resourceVersion)}` : '');
  let opened = false;
  touch();
  const x = conn.get(t.path + q, {
    head(status) {
      const reason = statusReason(status);
      if (reason) return finish(new SyncError(`watch of ${t.kind}: HTTP ${status}`, reason));
      opened = true;
      touch();
      h.opened();
    },
    data(text) {
      if (!opened || ended) return;
      touch();
      lines.push(text, () => ended);
    },
    done(err) {
      if (!err) return finish();
      const dropped = opened || err.code === 'ECONNRESET';
      finish(new SyncError(`watch of ${t.kind}: ${opened ? 'connection dropped' : err.message}`, dropped ? 'dropped' : 'unreachable'));
    },
  });
  return { close: () => finish() };
}

/** Splits a watch body into lines and hands each event on; what is not an event is reported, not dropped. */
class LineReader {
  private buf = '';
  constructor(
    private readonly t: Target,
    private readonly h: StreamHandlers,
    private readonly finish: (err?: SyncError) => void,
  ) {}

  push(text: string, ended: () => boolean): void {
    this.buf += text;
    let nl: number;
    while (!ended() && (nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (line) this.line(line);
    }
    if (this.buf.length > 64 * 1024 * 1024) this.finish(new SyncError(`watch of ${this.t.kind}: an event larger than 64 MiB`, 'bad-response'));
  }

  private line(line: string): void {
    const { t, h } = this;
    let ev: { type?: unknown; object?: unknown };
    try {
      ev = JSON.parse(line) as typeof ev;
    } catch {
      return h.malformed('an event that is not JSON');
    }
    const obj = ev?.object as KubeObject | undefined;
    if (!ev || typeof ev.type !== 'string' || !TYPES.has(ev.type) || !obj || typeof obj !== 'object' || Array.isArray(obj)) {
      return h.malformed('an event without a known type and an object');
    }
    if (ev.type === 'ERROR') {
      const code = (obj as { code?: unknown }).code;
      return this.finish(new SyncError(`watch of ${t.kind}: ${code === 410 ? 'resourceVersion too old (410 Gone)' : `error event ${String(code)}`}`, code === 410 ? 'gone' : 'server-error'));
    }
    const rv = obj.metadata?.resourceVersion;
    if (ev.type === 'BOOKMARK') {
      if (typeof rv === 'string') h.progress(rv);
      return;
    }
    if (typeof obj.metadata?.name !== 'string') return h.malformed(`a ${ev.type} event whose object has no name`);
    h.event(ev.type as WatchEventType, normalize(obj, t));
    if (typeof rv === 'string') h.progress(rv);
  }
}
