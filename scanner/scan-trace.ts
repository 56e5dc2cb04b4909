import { newSpanId, newTraceId, nowMs, type Tracer } from '../webhook/otlp.js';
import type { ClusterSummary } from './judged.js';

/**
 * Traces of a fleet scan: one trace per run, a root span for the scan and a child span per cluster with its status,
 * score, object and finding counts (cluster names and labels only, never object contents).
 */
export class ScanTrace {
  readonly traceId = newTraceId();
  readonly spanId = newSpanId();
  readonly startMs = nowMs();

  constructor(private readonly tracer: Tracer) {}

  cluster(report: ClusterSummary, startMs: number): void {
    this.tracer.record({
      traceId: this.traceId,
      spanId: newSpanId(),
      parentSpanId: this.spanId,
      name: `scan cluster ${report.name}`,
      kind: 1,
      startMs,
      endMs: nowMs(),
      attributes: {
        'fleetgate.cluster': report.name,
        ...Object.fromEntries(Object.entries(report.labels).map(([k, v]) => [`fleetgate.cluster.label.${k}`, v])),
        'fleetgate.cluster.status': report.status,
        'fleetgate.cluster.score': report.score ?? undefined,
        'fleetgate.cluster.objects': report.objects,
        'fleetgate.cluster.findings': report.findings,
        'fleetgate.cluster.drift': report.drift,
      },
      error: report.status === 'ok' ? undefined : (report.error ?? report.status),
    });
  }

  /** Ends the root span and sends everything. */
  async end(clusters: number, shard?: { index: number; count: number }): Promise<void> {
    this.tracer.record({
      traceId: this.traceId,
      spanId: this.spanId,
      name: 'fleet scan',
      kind: 1,
      startMs: this.startMs,
      endMs: nowMs(),
      attributes: { 'fleetgate.clusters': clusters, 'fleetgate.shard': shard ? `${shard.index}/${shard.count}` : undefined },
    });
    await this.tracer.shutdown();
  }
}
