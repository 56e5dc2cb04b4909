import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { describeNodeError, TransportError } from '../scanner/live/http.js';

/**
 * How the watch talks to one cluster's API server: every request of the cluster (discovery, lists, the ~16 watch
 * streams) over one HTTP/2 connection when the server negotiates `h2` through ALPN (kube-apiserver does), else over
 * a keep-alive HTTP/1.1 agent (one socket per open watch stream). Why: each HTTP/1.1 watch stream holds a TLS socket
 * (~59 KiB measured, bench/watch-sockets.ts); on HTTP/2 a stream is a few KiB inside one session.
 *
 * The first request decides: a TLS handshake offering `h2` and `http/1.1`; the socket becomes the HTTP/2 session
 * when the server picked `h2`, else it is closed and the cluster stays on HTTP/1.1. A session that ends (GOAWAY,
 * dropped connection) fails its open streams (their owners resume them) and the next request opens a new one.
 */

export interface Endpoint {
  protocol: 'https:' | 'http:';
  hostname: string;
  port: number;
  /** Path prefix of the server URL, without a trailing slash. */
  prefix: string;
  /** Request headers from the kubeconfig (Authorization, impersonation). */
  headers: Record<string, string | string[]>;
  /** TLS: one context (CA, client certificate) for every connection of the cluster. */
  secureContext?: tls.SecureContext;
  servername?: string;
  rejectUnauthorized?: boolean;
  /** A proxy agent from client-node (HTTP/1.1 only). */
  proxyAgent?: http.Agent;
}

export interface ExchangeHandlers {
  /** The status line arrived. */
  head(status: number): void;
  /** A piece of the body, as UTF-8 text. */
  data(text: string): void;
  /** Called once: no error when the body ended normally; else a transport failure (before or after `head`). */
  done(err?: TransportError): void;
}

export interface Exchange {
  /** Ends the request (no `done` call after this). */
  abort(): void;
}

export type Protocol = 'h2' | 'http/1.1';

/** How long a TCP + TLS connection may take before the request fails (the stream's idle deadline covers the rest). */
const CONNECT_MS = 30_000;

export class Transport {
  private session?: http2.ClientHttp2Session;
  private opening?: Promise<http2.ClientHttp2Session | undefined>;
  private agent?: http.Agent;
  private mode?: Protocol;
  private closed = false;

  constructor(
    private readonly ep: Endpoint,
    private readonly maxSockets: number,
  ) {
    // HTTP/2 needs TLS with ALPN; plain http and proxies stay on HTTP/1.1
    if (ep.protocol === 'http:' || ep.proxyAgent) this.mode = 'http/1.1';
  }

  /** The protocol in use, once the first connection said (undefined before). */
  get protocol(): Protocol | undefined {
    return this.mode;
  }

  /** Connections open now (1 for an HTTP/2 session; one per socket on HTTP/1.1). */
  connections(): number {
    if (this.mode === 'h2') return this.session && !this.session.closed && !this.session.destroyed ? 1 : 0;
    const a = this.agent as (http.Agent & { sockets: Record<string, unknown[]>; freeSockets: Record<string, unknown[]> }) | undefined;
    if (!a) return 0;
    const n = (m: Record<string, unknown[]>) => Object.values(m).reduce((s, l) => s + (l?.length ?? 0), 0);
    return n(a.sockets) + n(a.freeSockets);
  }

  /** A GET of `path` (below the server's prefix). */
  get(path: string, h: ExchangeHandlers): Exchange {
    let aborted = false;
    let inner: Exchange | undefined;
    const start = (session: http2.ClientHttp2Session | undefined) => {
      if (aborted) return;
      inner = session ? this.h2Get(session, path, h) : this.h1Get(path, h);
    };
    if (this.mode === 'http/1.1') start(undefined);
    else if (this.mode === 'h2' && this.live(this.session)) start(this.session);
    else
      this.connect().then(start, (err: NodeJS.ErrnoException) => {
        if (!aborted) h.done(new TransportError(describeNodeError(err), err.code ?? 'EUNKNOWN'));
      });
    return {
      abort: () => {
        aborted = true;
        inner?.abort();
      },
    };
  }

  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
    this.agent?.destroy();
    this.agent = undefined;
  }

  private live(s: http2.ClientHttp2Session | undefined): s is http2.ClientHttp2Session {
    return !!s && !s.closed && !s.destroyed;
  }

  /** The HTTP/2 session (opened once for all waiting requests), or undefined when the server speaks HTTP/1.1 only. */
  private connect(): Promise<http2.ClientHttp2Session | undefined> {
    this.opening ??= this.handshake().finally(() => (this.opening = undefined));
    return this.opening;
  }

  private async handshake(): Promise<http2.ClientHttp2Session | undefined> {
    const ep = this.ep;
    const socket = await new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({
        host: ep.hostname,
        port: ep.port,
        // SNI takes a host name, never an address
        servername: ep.servername ?? (net.isIP(ep.hostname) ? undefined : ep.hostname),
        secureContext: ep.secureContext,
        ...(ep.rejectUnauthorized !== undefined ? { rejectUnauthorized: ep.rejectUnauthorized } : {}),
        ALPNProtocols: ['h2', 'http/1.1'],
      });
      s.setTimeout(CONNECT_MS, () => s.destroy(Object.assign(new Error('connection timed out'), { code: 'ETIMEDOUT' })));
      s.once('secureConnect', () => {
        s.setTimeout(0);
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
    if (this.closed) {
      socket.destroy();
      return undefined;
    }
    if (socket.alpnProtocol !== 'h2') {
      socket.destroy();
      this.mode = 'http/1.1';
      return undefined;
    }
    this.mode = 'h2';
    const session = http2.connect(`https://${ep.hostname}:${ep.port}`, { createConnection: () => socket });
    // a session error also fails every stream on it, whose owners report and resume; nothing to do here
    session.on('error', () => {});
    session.on('close', () => {
      if (this.session === session) this.session = undefined;
    });
    this.session = session;
    return session;
  }

  private headers(): Record<string, string | string[]> {
    return { ...this.ep.headers, Accept: 'application/json', 'User-Agent': 'fleetgate-watch' };
  }

  private h2Get(session: http2.ClientHttp2Session, path: string, h: ExchangeHandlers): Exchange {
    const headers: http2.OutgoingHttpHeaders = { ':method': 'GET', ':path': this.ep.prefix + path };
    for (const [k, v] of Object.entries(this.headers())) headers[k.toLowerCase()] = v;
    let finished = false;
    const done = (err?: TransportError) => {
      if (finished) return;
      finished = true;
      h.done(err);
    };
    let stream: http2.ClientHttp2Stream;
    try {
      stream = session.request(headers, { endStream: true });
    } catch (err) {
      // the session closed between the check and the request (GOAWAY): the caller retries as after a drop
      queueMicrotask(() => done(new TransportError(describeNodeError(err as NodeJS.ErrnoException), 'ECONNRESET')));
      return { abort: () => (finished = true) };
    }
    let ended = false;
    stream.setEncoding('utf8');
    stream.on('response', (hd) => h.head(Number(hd[':status'] ?? 0)));
    stream.on('data', (text: string) => {
      if (!finished) h.data(text);
    });
    stream.on('end', () => (ended = true));
    stream.on('error', (err: NodeJS.ErrnoException) => done(new TransportError(describeNodeError(err), dropCode(err))));
    stream.on('close', () => done(ended && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR ? undefined : new TransportError('connection reset by the server', 'ECONNRESET')));
    return {
      abort: () => {
        finished = true;
        stream.close(http2.constants.NGHTTP2_CANCEL);
      },
    };
  }

  private h1Get(path: string, h: ExchangeHandlers): Exchange {
    const ep = this.ep;
    this.agent ??= ep.proxyAgent ?? (ep.protocol === 'https:' ? new https.Agent({ keepAlive: true, maxSockets: this.maxSockets, secureContext: ep.secureContext, servername: ep.servername, ...(ep.rejectUnauthorized !== undefined ? { rejectUnauthorized: ep.rejectUnauthorized } : {}) }) : new http.Agent({ keepAlive: true, maxSockets: this.maxSockets }));
    let finished = false;
    const done = (err?: TransportError) => {
      if (finished) return;
      finished = true;
      h.done(err);
    };
    const mod = ep.protocol === 'https:' ? https : http;
    const req = mod.request({ method: 'GET', protocol: ep.protocol, hostname: ep.hostname, port: ep.port, path: ep.prefix + path, headers: this.headers(), agent: this.agent });
    req.on('error', (err: NodeJS.ErrnoException) => done(new TransportError(describeNodeError(err), err.code ?? 'EUNKNOWN')));
    req.on('response', (res) => {
      h.head(res.statusCode ?? 0);
      res.setEncoding('utf8');
      res.on('data', (text: string) => {
        if (!finished) h.data(text);
      });
      res.on('end', () => done());
      const dropped = () => done(new TransportError('connection reset by the server', 'ECONNRESET'));
      res.on('aborted', dropped);
      res.on('error', dropped);
      res.on('close', () => (res.complete ? done() : dropped()));
    });
    req.end();
    return {
      abort: () => {
        finished = true;
        req.destroy();
      },
    };
  }
}

/** HTTP/2 stream and session failures are drops of the connection, as ECONNRESET is on HTTP/1.1. */
function dropCode(err: NodeJS.ErrnoException): string {
  const c = err.code ?? 'EUNKNOWN';
  return c.startsWith('ERR_HTTP2_') ? 'ECONNRESET' : c;
}
