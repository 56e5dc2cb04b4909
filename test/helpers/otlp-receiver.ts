// A local OTLP/HTTP traces receiver (JSON encoding), as a collector would run it: POST /v1/traces.
import { createServer, type Server } from 'node:http';

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  start: bigint;
  end: bigint;
  attributes: Record<string, string | number | boolean>;
  status: { code?: number; message?: string };
}

export interface OtlpReceiver {
  url: string;
  spans: ReceivedSpan[];
  requests: number;
  /** Resolves once `n` spans matching `where` have arrived (rejects after `ms`). */
  waitFor(where: (s: ReceivedSpan) => boolean, n?: number, ms?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

function value(v: Record<string, unknown>): string | number | boolean {
  if ('stringValue' in v) return v.stringValue as string;
  if ('boolValue' in v) return v.boolValue as boolean;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue as number;
  throw new Error(`unexpected attribute value ${JSON.stringify(v)}`);
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const r = { requests: 0 };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (c) => (body += c));
    req.on('end', () => {
      r.requests++;
      if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
        res.writeHead(415).end();
        return;
      }
      const doc = JSON.parse(body);
      for (const rs of doc.resourceSpans) {
        const service = value(rs.resource.attributes.find((a: { key: string }) => a.key === 'service.name').value) as string;
        for (const ss of rs.scopeSpans)
          for (const s of ss.spans)
            spans.push({
              service,
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId,
              name: s.name,
              kind: s.kind,
              start: BigInt(s.startTimeUnixNano),
              end: BigInt(s.endTimeUnixNano),
              attributes: Object.fromEntries(s.attributes.map((a: { key: string; value: Record<string, unknown> }) => [a.key, value(a.value)])),
              status: s.status ?? {},
            });
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    get requests() {
      return r.requests;
    },
    async waitFor(where, n = 1, ms = 20_000) {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        const found = spans.filter(where);
        if (found.length >= n) return found;
        await new Promise((res) => setTimeout(res, 25));
      }
      throw new Error(`only ${spans.filter(where).length} of ${n} spans arrived; got: ${spans.map((s) => s.name).join(', ')}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
