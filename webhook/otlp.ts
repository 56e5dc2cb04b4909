import { randomBytes } from 'node:crypto';

/**
 * Traces over OTLP/HTTP with the JSON encoding (the OpenTelemetry protocol's `application/json` form of
 * ExportTraceServiceRequest), without the OpenTelemetry SDK: fleetgate records finished spans only (a review, the
 * policies in it, a scanned cluster), so a queue and one POST per batch is all it needs. Used by `serve` and `scan`.
 *
 * Off unless an endpoint is configured (`--otlp-endpoint` or the standard OTEL_EXPORTER_OTLP_TRACES_ENDPOINT /
 * OTEL_EXPORTER_OTLP_ENDPOINT variables); when off there is no Tracer at all and callers skip every tracing branch.
 * Spans are exported in the background; if the collector is down they are dropped (counted), never retried in a loop
 * and never allowed to slow an answer.
 */

export type AttributeValue = string | number | boolean;

export interface SpanData {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  /** 1 internal, 2 server. */
  kind: 1 | 2;
  /** Epoch milliseconds (fractional). */
  startMs: number;
  endMs: number;
  attributes: Record<string, AttributeValue | undefined>;
  /** 2 = error (with a message); unset = ok. */
  error?: string;
}

export interface TracerOptions {
  /** The traces URL, e.g. http://collector:4318/v1/traces. */
  url: string;
  serviceName: string;
  headers?: Record<string, string>;
  /** Export at least this often (default 1 s) or when `batchSize` spans are waiting. */
  flushMs?: number;
  batchSize?: number;
  /** Spans waiting beyond this are dropped (default 8192). */
  maxQueue?: number;
  onError?: (message: string) => void;
}

/** Epoch milliseconds from the monotonic clock (what span times are written in). */
export const nowMs = (): number => performance.timeOrigin + performance.now();

export const newTraceId = (): string => randomBytes(16).toString('hex');
export const newSpanId = (): string => randomBytes(8).toString('hex');

/** The exporter endpoint from a flag or the standard environment variables; undefined: tracing is off. */
export function otlpTracesUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const perSignal = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  if (!flag && perSignal) return perSignal; // used as is, per the specification
  const base = flag ?? env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!base) return undefined;
  if (!/^https?:\/\//.test(base)) throw new Error(`the OTLP endpoint must be an http(s) URL, got "${base}"`);
  return flag && /\/v1\/traces\/?$/.test(flag) ? flag : `${base.replace(/\/+$/, '')}/v1/traces`;
}

/** A URL for a log line: without user info or query (they may carry credentials). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(unparsable URL)';
  }
}

/** `OTEL_EXPORTER_OTLP_HEADERS` (`k=v,k2=v2`, values URL-encoded), e.g. an API key for a hosted collector. */
export function otlpHeaders(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of (env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS ?? '').split(',')) {
    const i = pair.indexOf('=');
    if (i > 0) out[pair.slice(0, i).trim()] = decodeURIComponent(pair.slice(i + 1).trim());
  }
  return out;
}

function attributesOf(attrs: Record<string, AttributeValue | undefined>) {
  const out: { key: string; value: Record<string, unknown> }[] = [];
  for (const [key, v] of Object.entries(attrs)) {
    if (v === undefined) continue;
    const value = typeof v === 'boolean' ? { boolValue: v } : typeof v === 'number' ? (Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v }) : { stringValue: v };
    out.push({ key, value });
  }
  return out;
}

const nanos = (ms: number): string => (BigInt(Math.floor(ms)) * 1_000_000n + BigInt(Math.round((ms % 1) * 1e6))).toString();

export class Tracer {
  private queue: SpanData[] = [];
  private timer?: NodeJS.Timeout;
  private inFlight = new Set<Promise<void>>();
  /** Spans dropped because the queue was full or the collector refused them. */
  dropped = 0;
  exported = 0;
  private readonly o: Required<Omit<TracerOptions, 'headers' | 'onError'>> & Pick<TracerOptions, 'headers' | 'onError'>;

  constructor(opts: TracerOptions) {
    this.o = { flushMs: 1000, batchSize: 512, maxQueue: 8192, ...opts };
  }

  /** Queues a finished span for export. */
  record(span: SpanData): void {
    if (this.queue.length >= this.o.maxQueue) {
      this.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.o.batchSize) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.o.flushMs);
      this.timer.unref();
    }
  }

  /** Sends what is queued (resolves when the collector answered or the attempt failed). */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.queue.length) return Promise.all(this.inFlight).then(() => {});
    const batch = this.queue;
    this.queue = [];
    const p = this.send(batch).finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
    return p;
  }

  /** Flushes and waits for every export in flight (on shutdown). */
  async shutdown(): Promise<void> {
    await this.flush();
    await Promise.all(this.inFlight);
  }

  private async send(spans: SpanData[]): Promise<void> {
    const body = {
      resourceSpans: [
        {
          resource: { attributes: attributesOf({ 'service.name': this.o.serviceName, 'telemetry.sdk.name': 'fleetgate', 'telemetry.sdk.language': 'nodejs' }) },
          scopeSpans: [
            {
              scope: { name: 'fleetgate' },
              spans: spans.map((s) => ({
                traceId: s.traceId,
                spanId: s.spanId,
                ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
                name: s.name,
                kind: s.kind,
                startTimeUnixNano: nanos(s.startMs),
                endTimeUnixNano: nanos(s.endMs),
                attributes: attributesOf(s.attributes),
                status: s.error === undefined ? { code: 1 } : { code: 2, message: s.error },
              })),
            },
          ],
        },
      ],
    };
    try {
      const res = await fetch(this.o.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...this.o.headers },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(10_000),
      });
      await res.arrayBuffer().catch(() => undefined);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      this.exported += spans.length;
    } catch (err) {
      this.dropped += spans.length;
      // Never the URL's credentials or the headers: the reason and the count only.
      this.o.onError?.(`OTLP export of ${spans.length} spans failed: ${(err as Error).message}`);
    }
  }
}
