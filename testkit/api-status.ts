import type { IncomingMessage, ServerResponse } from 'node:http';

/** A `Status` object as the apiserver writes it for an error. */
export function status(code: number, reason: string, message: string, details?: Record<string, unknown>): Record<string, unknown> {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
}

/**
 * The client went away (or the double cut the response). An HTTP/2 response (the double serves both) has no
 * `destroyed` of its own: its stream does.
 */
export function gone(res: ServerResponse): boolean {
  return res.destroyed === true || (res as unknown as { stream?: { destroyed?: boolean } }).stream?.destroyed === true;
}

/**
 * Drops the connection a request came on, as a network failure would: the TCP socket on HTTP/1.1, the whole
 * session on HTTP/2 (destroying only the HTTP/2 stream would reset it with NO_ERROR, which a client reads as a
 * normal end).
 */
export function cutConnection(r: ServerResponse | IncomingMessage): void {
  const session = (r as unknown as { stream?: { session?: { socket?: { localPort?: number; remotePort?: number }; destroy(): void } } }).stream?.session;
  if (!session) return void r.socket?.destroy();
  // destroying the session resets its streams (NO_ERROR) before the socket closes: cut the TLS socket under it
  const raw = session.socket ? tlsSockets.get(`${session.socket.localPort}:${session.socket.remotePort}`) : undefined;
  if (raw) raw.destroy();
  else session.destroy();
}

/** The doubles' TLS sockets by their ports, so that an HTTP/2 session's socket can be cut (api-double.ts fills it). */
export const tlsSockets = new Map<string, { destroy(): void }>();

/** Answers with JSON, as the apiserver does (unless the response is gone or already started). */
export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  if (gone(res) || res.headersSent) return;
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)), 'Cache-Control': 'no-cache, private', ...headers });
  res.end(text);
}
