/**
 * Watch streams for the API double (api-double.ts serves discovery and lists; this serves `?watch=1` on the same
 * list paths, as the apiserver does): newline-delimited `{type, object}` events — ADDED, MODIFIED, DELETED,
 * BOOKMARK — resumed from `resourceVersion`, with faults for the watch tests:
 *
 *   const api = await startApiDouble();
 *   const w = attachWatch(api);
 *   api.addCluster('par01', { objects });
 *   w.apply('par01', 'MODIFIED', { ...deployment, spec: { replicas: 5 } });   // stored and streamed
 *   w.faults('par01').goneOnResume = true;                                      // every resume answers 410
 *
 * Changes go through `apply`, which bumps the cluster's resourceVersion (lists after it show the change) and keeps
 * a bounded log; a resume from a resourceVersion older than the log gets an ERROR event with a 410 Status, as a
 * real apiserver answers "too old resource version".
 */
import type { ServerResponse } from 'node:http';
import type { KubeObject } from '../src/index.js';
import { cutConnection, gone } from './api-status.js';
import { status, type ApiDouble, type DoubleCluster, type RequestRecord } from './api-double.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchFaults {
  /** Every watch request that carries a resourceVersion answers 410 Gone (an ERROR event). */
  goneOnResume?: boolean;
  /** Every watch stream's connection is cut this many ms after it opens (on HTTP/2: the cluster's session). */
  dropAfterMs?: number;
  /** The next n events are preceded by a line that is not JSON. */
  malformed?: number;
  /** The next n events are sent as a JSON line without an object. */
  objectless?: number;
  /** Send a BOOKMARK with the current resourceVersion every this many ms. */
  bookmarkMs?: number;
}

interface LoggedEvent {
  rv: number;
  type: EventType;
  object: KubeObject;
}

interface OpenStream {
  cluster: string;
  group: string;
  kind: string;
  namespace?: string;
  res: ServerResponse;
  timers: NodeJS.Timeout[];
}

export interface WatchDouble {
  faults(cluster: string): WatchFaults;
  /** Changes an object of a cluster and sends the event to every open stream of its kind. */
  apply(cluster: string, type: EventType, object: KubeObject): number;
  /** Watch streams open now (all clusters, or one). */
  open(cluster?: string): number;
  /** Events kept per cluster for resumes (older resumes get 410). */
  readonly logSize: number;
}

const key = (o: KubeObject) => `${o.apiVersion?.includes('/') ? o.apiVersion.split('/')[0] : ''}/${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
const groupOf = (apiVersion: string | undefined) => (apiVersion && apiVersion.includes('/') ? apiVersion.split('/')[0] : '');

const matches = (s: OpenStream, o: KubeObject) => groupOf(o.apiVersion) === s.group && o.kind === s.kind && (!s.namespace || o.metadata?.namespace === s.namespace);

/** What a watch request needs of its double: the logs, the faults, the open streams and how to write to them. */
interface Ctx {
  logs: Map<string, LoggedEvent[]>;
  logSize: number;
  /** Open streams by cluster: an event is sent to its cluster's streams without a look at every other's. */
  streams: Map<string, Set<OpenStream>>;
  faultsOf(cluster: string): WatchFaults;
  write(s: OpenStream, line: unknown): void;
  send(s: OpenStream, e: LoggedEvent): void;
  close(s: OpenStream): void;
}

/** One watch request: 404 for a kind not served, 410 for a resume too old (or the fault), else the events since, then live ones. */
function serveWatch(ctx: Ctx, cluster: DoubleCluster, route: { group: string; version: string; resource: string; namespace?: string }, url: URL, res: ServerResponse, rec: RequestRecord): void {
  const { logs, logSize, streams, faultsOf, write, send, close } = ctx;
  const type = cluster.served().find((t) => t.group === route.group && t.name === route.resource && t.versions.includes(route.version));
  if (!type) {
    rec.status = 404;
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(status(404, 'NotFound', 'the server could not find the requested resource')));
    return;
  }
  const f = faultsOf(cluster.name);
  const from = url.searchParams.get('resourceVersion');
  const log = logs.get(cluster.name) ?? [];
  rec.status = 200;
  rec.fault = 'watch';
  // no Content-Length: HTTP/1.1 sends it chunked, HTTP/2 as DATA frames (Transfer-Encoding is not allowed there)
  res.writeHead(200, { 'Content-Type': 'application/json' });
  const s: OpenStream = { cluster: cluster.name, group: type.group, kind: type.kind, namespace: route.namespace, res, timers: [] };
  let mine = streams.get(cluster.name);
  if (!mine) streams.set(cluster.name, (mine = new Set()));
  mine.add(s);
  res.on('close', () => close(s));
  const gv = route.group ? `${route.group}/${route.version}` : route.version;
  const tooOld = from !== null && from !== '' && log.length >= logSize && Number(from) < log[0].rv - 1;
  if (from && (f.goneOnResume || tooOld)) {
    rec.fault = 'watch-gone';
    write(s, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${cluster.resourceVersion})`) });
    res.end();
    return;
  }
  // the events after the resourceVersion asked for, then live ones
  const since = from ? Number(from) : cluster.resourceVersion;
  for (const e of log) if (e.rv > since && matches(s, e.object)) send(s, e);
  const timeout = Number(url.searchParams.get('timeoutSeconds') ?? '0');
  if (timeout > 0) s.timers.push(setTimeout(() => res.end(), timeout * 1000));
  if (f.dropAfterMs) s.timers.push(setTimeout(() => cutConnection(res), f.dropAfterMs));
  if (f.bookmarkMs) {
    const tick = () => {
      write(s, { type: 'BOOKMARK', object: { kind: type.kind, apiVersion: gv, metadata: { resourceVersion: String(cluster.resourceVersion) } } });
      s.timers.push(setTimeout(tick, f.bookmarkMs));
    };
    s.timers.push(setTimeout(tick, f.bookmarkMs));
  }
}

/** Stores a change in the cluster's objects (what lists return), through an index kept per cluster. */
function store(cluster: DoubleCluster, indexes: Map<string, { objects: KubeObject[]; at: Map<string, number> }>, type: EventType, obj: KubeObject): void {
  // an index per cluster (rebuilt when someone replaced the array): benchmarks apply thousands of events a second
  let ix = indexes.get(cluster.name);
  if (!ix || ix.objects !== cluster.objects) indexes.set(cluster.name, (ix = { objects: cluster.objects, at: new Map(cluster.objects.map((o, i) => [key(o), i])) }));
  const k = key(obj);
  const at = ix.at.get(k);
  if (type === 'DELETED') {
    if (at !== undefined) {
      cluster.objects.splice(at, 1);
      indexes.delete(cluster.name);
    }
  } else if (at !== undefined) cluster.objects[at] = obj;
  else ix.at.set(k, cluster.objects.push(obj) - 1);
}

export function attachWatch(api: ApiDouble, opts: { logSize?: number } = {}): WatchDouble {
  const logSize = opts.logSize ?? 10_000;
  const logs = new Map<string, LoggedEvent[]>();
  const faults = new Map<string, WatchFaults>();
  const streams = new Map<string, Set<OpenStream>>();
  const indexes = new Map<string, { objects: KubeObject[]; at: Map<string, number> }>();
  const faultsOf = (c: string) => {
    let f = faults.get(c);
    if (!f) faults.set(c, (f = {}));
    return f;
  };

  const write = (s: OpenStream, line: unknown) => {
    if (!gone(s.res)) s.res.write(`${JSON.stringify(line)}\n`);
  };
  const send = (s: OpenStream, e: LoggedEvent) => {
    const f = faultsOf(s.cluster);
    if (f.malformed && f.malformed > 0) {
      f.malformed--;
      s.res.write('{"type":"MODIFIED","object":{not json\n');
    }
    if (f.objectless && f.objectless > 0) {
      f.objectless--;
      write(s, { type: e.type });
    }
    write(s, { type: e.type, object: e.object });
  };
  const close = (s: OpenStream) => {
    for (const t of s.timers) clearTimeout(t);
    streams.get(s.cluster)?.delete(s);
  };

  const ctx: Ctx = { logs, logSize, streams, faultsOf, write, send, close };
  api.onWatch((cluster, route, url, res, rec) => serveWatch(ctx, cluster, route, url, res, rec));

  return {
    logSize,
    faults: faultsOf,
    open: (c) => (c ? (streams.get(c)?.size ?? 0) : [...streams.values()].reduce((n, set) => n + set.size, 0)),
    apply(clusterName, type, object) {
      const cluster = api.cluster(clusterName);
      const rv = ++cluster.resourceVersion;
      const obj: KubeObject = structuredClone(object);
      obj.metadata = { ...(obj.metadata ?? {}), resourceVersion: String(rv) };
      store(cluster, indexes, type, obj);
      const log = logs.get(clusterName) ?? [];
      log.push({ rv, type, object: obj });
      if (log.length > logSize) log.splice(0, log.length - logSize);
      logs.set(clusterName, log);
      for (const s of streams.get(clusterName) ?? []) if (matches(s, obj)) send(s, { rv, type, object: obj });
      return rv;
    },
  };
}
