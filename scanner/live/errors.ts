/** A cluster that could not be read: `unreachable` (network, TLS, timeout) or `error` (the API answered, but not usefully). */
export class ClusterReadError extends Error {
  constructor(
    message: string,
    readonly status: 'unreachable' | 'error',
  ) {
    super(message);
    this.name = 'ClusterReadError';
  }
}

/** Thrown inside the reader when a list or discovery call gets a status the caller handles (403, 404, 410). */
export class HttpStatus extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`HTTP ${status}`);
  }
}

/** First line of a server-supplied text, capped: messages stay one line and bounded whatever the server sends. */
export function oneLine(s: string): string {
  const line = s.split('\n')[0];
  return line.length > 300 ? line.slice(0, 300) + '…' : line;
}

export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return `${Number.isInteger(s) ? s : Number(s.toFixed(s < 1 ? 2 : 1))}s`;
}
