import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import type { Logger } from 'pino';

/** TLS 1.2 is the floor; Node negotiates 1.3 when the client offers it. */
export const TLS_MIN_VERSION = 'TLSv1.2' as const;

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
}

export function readTlsFiles(certFile: string, keyFile: string): TlsMaterial {
  return { cert: readFileSync(certFile), key: readFileSync(keyFile) };
}

/** When the (first) certificate of a PEM chain expires, in seconds since the epoch; undefined if it does not parse. */
export function certificateNotAfter(pem: Buffer): number | undefined {
  try {
    return Date.parse(new X509Certificate(pem).validTo) / 1000;
  } catch {
    return undefined;
  }
}

export function tlsOptions(m: TlsMaterial): SecureContextOptions {
  return { cert: m.cert, key: m.key, minVersion: TLS_MIN_VERSION };
}

/**
 * Re-reads the cert and key files every `intervalMs` and, when their contents changed and form a valid pair, swaps
 * the server's secure context. New handshakes use the new certificate; connections already open keep theirs, so a
 * rotation drops nothing. Polling (rather than fs.watch) survives cert-manager's symlink swaps in Secret volumes.
 * A half-written pair (new cert, old key) fails createSecureContext and is retried on the next tick.
 */
export class CertReloader {
  private timer?: NodeJS.Timeout;
  private current: TlsMaterial;

  constructor(
    private readonly certFile: string,
    private readonly keyFile: string,
    initial: TlsMaterial,
    private readonly apply: (opts: SecureContextOptions) => void,
    private readonly logger: Logger,
    private readonly onReload: (ok: boolean, installed?: TlsMaterial) => void = () => {},
  ) {
    this.current = initial;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.check(), intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** One poll; returns true when a new certificate was installed. */
  check(): boolean {
    let next: TlsMaterial;
    try {
      next = readTlsFiles(this.certFile, this.keyFile);
    } catch (err) {
      this.logger.warn({ certFile: this.certFile, keyFile: this.keyFile, code: (err as NodeJS.ErrnoException).code }, 'cannot read TLS files; keeping the current certificate');
      return false;
    }
    if (next.cert.equals(this.current.cert) && next.key.equals(this.current.key)) return false;
    try {
      createSecureContext(tlsOptions(next)); // validates the pair before it goes live
      this.apply(tlsOptions(next));
    } catch (err) {
      this.onReload(false);
      this.logger.warn({ certFile: this.certFile, reason: (err as Error).message }, 'new TLS files are not a usable cert/key pair yet; keeping the current certificate');
      return false;
    }
    this.current = next;
    this.onReload(true, next);
    this.logger.info({ certFile: this.certFile }, 'TLS certificate reloaded');
    return true;
  }
}
