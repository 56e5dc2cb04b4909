/**
 * The faults the API double injects, per cluster (`cluster.faults`): their settings and the code that applies them
 * at each step of answering a request (before routing, instead of the answer, on a list, on the wire).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestRecord, ResourceType } from './api-cluster.js';
import { cutConnection, gone, status } from './api-status.js';

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

/** An answer of the double: status code, body (JSON) and extra headers. */
export interface Answer {
  code: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** The double's timers, cleared when it closes. */
export interface Timers {
  later(ms: number, fn: () => void): void;
  closing(): boolean;
}

type CountedFault = 'serverErrors' | 'tooManyRequests' | 'resetMidBody' | 'truncatedJson' | 'dropConnection';

/** Takes one of a counted fault for this request when any is left (list requests only, unless `faultOn: 'all'`). */
function take(f: ClusterFaults, fault: CountedFault, isList: boolean, rec: RequestRecord): boolean {
  const n = f[fault];
  if (!n || n <= 0 || (!isList && f.faultOn !== 'all')) return false;
  f[fault] = n - 1;
  rec.fault = fault;
  return true;
}

/** `hang` and `drip`, checked after authentication: true when they took the request over. */
export function stalled(f: ClusterFaults, res: ServerResponse, rec: RequestRecord, timers: Timers): boolean {
  if (f.hang) {
    rec.fault = 'hang';
    return true; // never answered; closed when the client gives up or the double closes
  }
  if (f.drip && f.drip > 0) {
    rec.fault = 'drip';
    rec.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    const body = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: {}, items: [] });
    let i = 0;
    const step = () => {
      // bounded: stops when the client goes away, the double closes, or after 100 000 bytes
      if (gone(res) || timers.closing() || i >= 100_000) return;
      res.write(i < body.length - 1 ? body[i] : ' ');
      i++;
      timers.later(f.drip!, step);
    };
    step();
    return true;
  }
  return false;
}

/** The counted faults that answer instead of the apiserver: a dropped connection, 429, 500. True when one did. */
export function failed(f: ClusterFaults, isList: boolean, req: IncomingMessage, rec: RequestRecord, send: (code: number, body: unknown, headers?: Record<string, string>) => void): boolean {
  if (take(f, 'dropConnection', isList, rec)) {
    cutConnection(req);
    return true;
  }
  if (take(f, 'tooManyRequests', isList, rec)) {
    const secs = f.retryAfterSeconds ?? 1;
    send(429, status(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds: Math.ceil(secs) }), {
      'Retry-After': String(secs),
    });
    return true;
  }
  if (take(f, 'serverErrors', isList, rec)) {
    const echo = f.echoCredentials ? ` (request had Authorization: ${req.headers.authorization ?? 'none'})` : '';
    send(500, status(500, 'InternalError', `Internal error occurred: etcdserver: request timed out${echo}`, { causes: [{ message: 'etcdserver: request timed out' }] }));
    return true;
  }
  return false;
}

/** The counted faults that spoil a 200 answer on the wire: reset mid-body, or JSON cut in half. True when one did. */
export function spoiled(f: ClusterFaults, isList: boolean, result: Answer, res: ServerResponse, rec: RequestRecord): boolean {
  if (result.code !== 200) return false;
  if (take(f, 'resetMidBody', isList, rec)) {
    const text = JSON.stringify(result.body);
    rec.status = 200;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
    res.write(text.slice(0, Math.floor(text.length / 2)), () => cutConnection(res));
    return true;
  }
  if (take(f, 'truncatedJson', isList, rec)) {
    const text = JSON.stringify(result.body);
    rec.status = 200;
    const cut = text.slice(0, Math.floor(text.length / 2));
    res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(cut)) });
    res.end(cut);
    return true;
  }
  return false;
}

/** The list faults of a resource (`forbidden`, `notFound`, `goneOnContinue`): the refusal, or undefined. */
export function listRefused(f: ClusterFaults, t: ResourceType, namespace: string | undefined, cont: string | null, rec: RequestRecord, authorization?: string): Answer | undefined {
  if (f.forbidden?.some((r) => r === t.name || r === `${t.name}.${t.group}`)) {
    const scope = namespace ? `in the namespace "${namespace}"` : 'at the cluster scope';
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
  if (f.notFound?.some((r) => r === t.name || r === `${t.name}.${t.group}`)) return { code: 404, body: status(404, 'NotFound', 'the server could not find the requested resource') };
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
  return undefined;
}
