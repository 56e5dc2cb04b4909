import * as http from 'node:http';
import * as https from 'node:https';

/**
 * One GET against the API server, with the connection settings (TLS, client certificate, bearer token) that
 * @kubernetes/client-node derived from the kubeconfig. The raw response comes back; nothing here decides what a
 * status means. Header values never leave this module.
 */

export interface Connection {
  protocol: 'https:' | 'http:';
  hostname: string;
  port: number;
  /** Path prefix of the server URL (`https://host/prefix`), without a trailing slash. */
  prefix: string;
  headers: Record<string, string | string[]>;
  /** `user:password` for basic auth, as client-node puts it. */
  auth?: string;
  agent: http.Agent;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A transport failure; `code` is Node's error code (ECONNRESET, ECONNREFUSED, CERT_..., …) or one of ours. */
export class TransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'TransportError';
  }
}

/** Largest body accepted for one response (a page of `limit` objects is far below this). */
export const MAX_BODY_BYTES = 128 * 1024 * 1024;

export function httpGet(conn: Connection, path: string, signal: AbortSignal, maxBodyBytes = MAX_BODY_BYTES): Promise<RawResponse> {
  return new Promise<RawResponse>((resolve, reject) => {
    if (signal.aborted) return reject(new TransportError('aborted', 'ABORT_ERR'));
    const mod = conn.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (err: TransportError) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      req.destroy();
      reject(err);
    };
    const onAbort = () => fail(new TransportError('aborted', 'ABORT_ERR'));
    const req = mod.request({
      method: 'GET',
      protocol: conn.protocol,
      hostname: conn.hostname,
      port: conn.port,
      path: conn.prefix + path,
      headers: { ...conn.headers, Accept: 'application/json', 'User-Agent': 'fleetgate-scanner' },
      auth: conn.auth,
      agent: conn.agent,
    });
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err: NodeJS.ErrnoException) => fail(new TransportError(describeNodeError(err), err.code ?? 'EUNKNOWN')));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > maxBodyBytes) fail(new TransportError(`response larger than ${maxBodyBytes} bytes`, 'ETOOBIG'));
        else chunks.push(c);
      });
      res.on('error', () => fail(new TransportError('connection reset while reading the response', 'ECONNRESET')));
      res.on('aborted', () => fail(new TransportError('connection reset while reading the response', 'ECONNRESET')));
      res.on('close', () => {
        if (!res.complete) fail(new TransportError('connection closed before the response was complete', 'ECONNRESET'));
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.end();
  });
}

/** A short, credential-free description of a Node network/TLS error. */
export function describeNodeError(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'DNS lookup failed for the server address';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'no route to the server';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset by the server';
    case 'ETIMEDOUT':
      return 'connection timed out';
  }
  if (isTlsCode(code)) return `TLS error: ${tlsReason(err)}`;
  // Node messages for network errors hold addresses and codes, never headers; keep it to one line anyway.
  return String(err.message ?? code).split('\n')[0];
}

export function isTlsCode(code: string): boolean {
  return (
    code.startsWith('ERR_TLS') ||
    code.startsWith('ERR_SSL') ||
    code.startsWith('CERT_') ||
    code === 'EPROTO' ||
    code === 'DEPTH_ZERO_SELF_SIGNED_CERT' ||
    code === 'SELF_SIGNED_CERT_IN_CHAIN' ||
    code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' ||
    code === 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' ||
    code === 'ERR_OSSL_PEM_NO_START_LINE' ||
    code.startsWith('ERR_OSSL')
  );
}

function tlsReason(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `the server's certificate is not trusted by the kubeconfig's certificate-authority (${err.code})`;
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
      return "the server's certificate does not name the server address (ERR_TLS_CERT_ALTNAME_INVALID)";
    case 'CERT_HAS_EXPIRED':
      return "the server's certificate has expired";
  }
  return `${err.code}`;
}
