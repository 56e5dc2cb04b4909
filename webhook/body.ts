import type { IncomingMessage } from 'node:http';

/** A client error that ends a request before it reaches the handler: status, message, reason (a metric label). */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly reason: string,
    /** Close the connection after answering (the rest of the body was never read). */
    readonly closeConnection = false,
  ) {
    super(message);
  }
}

interface PendingRead {
  deadline: number;
  received: number;
  fail(err: HttpError): void;
}

/**
 * Reads request bodies with a byte limit and a time limit. Over the limit → 413; not all there in time
 * (slowloris) → 400 and the connection is closed; a body shorter than its Content-Length → 400.
 *
 * The time limit is enforced by one sweep over the reads in progress (a few times per limit), not by a timer per
 * request: arming and clearing a timer on every review costs more than reading a typical body.
 */
export class BodyReader {
  private readonly pending = new Set<PendingRead>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly limit: number,
    private readonly timeoutMs: number,
  ) {
    this.sweeper = setInterval(() => this.sweep(Date.now()), Math.max(20, Math.min(250, Math.floor(timeoutMs / 4))));
    this.sweeper.unref();
  }

  /** Reads the whole body, then calls back once (callback style: no promise per review on the hot path). */
  read(raw: IncomingMessage, done: (err: HttpError | null, body?: Buffer) => void): void {
    const { limit, pending } = this;
    {
      const declared = raw.headers['content-length'];
      const declaredLength = declared === undefined ? undefined : Number(declared);
      if (declaredLength !== undefined && declaredLength > limit) {
        done(new HttpError(413, `request body of ${declaredLength} bytes exceeds the ${limit}-byte limit`, 'too-large', true));
        return;
      }
      const chunks: Buffer[] = [];
      const finish = (err: HttpError | null, body?: Buffer) => {
        if (!pending.delete(read)) return;
        raw.off('data', onData);
        raw.off('end', onEnd);
        raw.off('error', onError);
        raw.off('aborted', onAborted);
        if (err) {
          raw.on('error', () => {}); // late stream errors after we gave up must not become uncaught
          raw.pause();
          done(err);
        } else done(null, body);
      };
      const read: PendingRead = { deadline: Date.now() + this.timeoutMs, received: 0, fail: (err) => finish(err) };
      const onData = (chunk: Buffer) => {
        read.received += chunk.length;
        if (read.received > limit) finish(new HttpError(413, `request body exceeds the ${limit}-byte limit`, 'too-large', true));
        else chunks.push(chunk);
      };
      const onEnd = () => {
        if (declaredLength !== undefined && read.received !== declaredLength)
          finish(new HttpError(400, `request body has ${read.received} bytes but Content-Length says ${declaredLength}`, 'truncated', true));
        else finish(null, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, read.received));
      };
      const onError = (err: Error) => finish(new HttpError(400, `request body could not be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, 'read-error', true));
      const onAborted = () => finish(new HttpError(400, 'request body was aborted', 'aborted', true));
      pending.add(read);
      raw.on('data', onData);
      raw.on('end', onEnd);
      raw.on('error', onError);
      raw.on('aborted', onAborted);
    }
  }

  /** Fails every read whose time is up (called by the sweeper; public for tests). */
  sweep(now: number): void {
    for (const read of this.pending)
      if (read.deadline <= now)
        read.fail(new HttpError(400, `request body not received within the time budget of ${this.timeoutMs} ms (${read.received} bytes arrived)`, 'slow-body', true));
  }

  close(): void {
    clearInterval(this.sweeper);
  }
}
