import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeObject } from '../src/index.js';
import type { Connection } from '../scanner/live/http.js';
import { normalize, statusReason, SyncError, type Target } from './kube.js';

/**
 * One watch stream (`?watch=1&resourceVersion=RV&allowWatchBookmarks=true`): newline-delimited JSON events.
 * Written on node:https rather than client-node's `Watch` because the watch needs two things that one lacks:
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
  /** Server-side timeout asked for (the server ends the stream, the client resumes). */
  timeoutSeconds: number;
  /** No byte for this long: the stream is dead. */
  idleMs: number;
}

const TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);

export function openWatch(conn: Connection, t: Target, resourceVersion: string, h: StreamHandlers, o: StreamOptions): { close(): void } {
  let ended = false;
  let idle: NodeJS.Timeout | undefined;
  const finish = (err?: SyncError) => {
    if (ended) return;
    ended = true;
    clearTimeout(idle);
    req.destroy();
    h.end(err);
  };
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => finish(new SyncError(`watch of ${t.kind} was silent for ${Math.round(o.idleMs / 1000)}s`, 'timeout')), o.idleMs);
    idle.unref();
  };
  const q = `?watch=1&allowWatchBookmarks=true&timeoutSeconds=${o.timeoutSeconds}` + (resourceVersion ? `&resourceVersion=${encodeURIComponent(resourceVersion)}` : '');
  const mod = conn.protocol === 'https:' ? https : http;
  const req = mod.request({
    method: 'GET',
    protocol: conn.protocol,
    hostname: conn.hostname,
    port: conn.port,
    path: conn.prefix + t.path + q,
    headers: { ...conn.headers, Accept: 'application/json', 'User-Agent': 'fleetgate-watch' },
    auth: conn.auth,
    agent: conn.agent,
  });
  touch();
  req.on('error', (err: NodeJS.ErrnoException) => finish(new SyncError(`watch of ${t.kind}: ${err.code ?? err.message}`, err.code === 'ECONNRESET' ? 'dropped' : 'unreachable')));
  req.on('response', (res) => {
    const reason = statusReason(res.statusCode ?? 0);
    if (reason) {
      res.resume();
      return finish(new SyncError(`watch of ${t.kind}: HTTP ${res.statusCode}`, reason));
    }
    touch();
    h.opened();
    let buf = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      touch();
      buf += chunk;
      let nl: number;
      while (!ended && (nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line) onLine(line);
      }
      if (buf.length > 64 * 1024 * 1024) finish(new SyncError(`watch of ${t.kind}: an event larger than 64 MiB`, 'bad-response'));
    });
    res.on('end', () => finish());
    res.on('aborted', () => finish(new SyncError(`watch of ${t.kind}: connection dropped`, 'dropped')));
    res.on('error', () => finish(new SyncError(`watch of ${t.kind}: connection dropped`, 'dropped')));
    res.on('close', () => finish(res.complete ? undefined : new SyncError(`watch of ${t.kind}: connection dropped`, 'dropped')));
  });
  req.end();

  function onLine(line: string): void {
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
      return finish(new SyncError(`watch of ${t.kind}: ${code === 410 ? 'resourceVersion too old (410 Gone)' : `error event ${String(code)}`}`, code === 410 ? 'gone' : 'server-error'));
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

  return { close: () => finish() };
}
