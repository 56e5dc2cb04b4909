import type { ParsedRequest, Verdict } from './admission.js';
import { ident } from './admission.js';
import { newSpanId, newTraceId, type Tracer } from './otlp.js';

/** The review's span (the decision in its attributes) and one child span per policy that judged it. */
export function traceReview(tracer: Tracer, req: ParsedRequest, decision: string, started: number, ended: number, verdict: Verdict | undefined): void {
  const traceId = newTraceId();
  const spanId = newSpanId();
  const failed = new Map<string, 'fail' | 'error'>();
  for (const f of verdict?.findings ?? []) if (failed.get(f.policy) !== 'error') failed.set(f.policy, f.error ? 'error' : 'fail');
  tracer.record({
    traceId,
    spanId,
    name: 'admission review',
    kind: 2,
    startMs: performance.timeOrigin + started,
    endMs: performance.timeOrigin + ended,
    attributes: {
      'fleetgate.admission.decision': decision,
      'fleetgate.admission.operation': req.operation,
      'fleetgate.admission.kind': ident(req.kind),
      'fleetgate.admission.uid': ident(req.uid),
      'fleetgate.admission.dry_run': req.dryRun,
      'k8s.namespace.name': ident(req.namespace),
      'fleetgate.admission.failure': verdict?.failure,
    },
    error: verdict?.failure ? (verdict.failureDetail ?? verdict.failure) : undefined,
  });
  for (const t of verdict?.timings ?? []) {
    const sandbox = t.policy.startsWith('sandbox:');
    const ids = sandbox ? t.policy.slice('sandbox:'.length).split(',') : [t.policy];
    const result = ids.some((id) => failed.get(id) === 'error') ? 'error' : ids.some((id) => failed.has(id)) ? 'fail' : 'pass';
    tracer.record({
      traceId,
      spanId: newSpanId(),
      parentSpanId: spanId,
      name: sandbox ? 'user policies (sandbox)' : `policy ${t.policy}`,
      kind: 1,
      startMs: t.startMs,
      endMs: t.endMs,
      attributes: sandbox ? { 'fleetgate.policies': ids.join(','), 'fleetgate.policy.result': result } : { 'fleetgate.policy': t.policy, 'fleetgate.policy.result': result },
      error: result === 'error' ? 'policy error' : undefined,
    });
  }
}
