import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { FastHistogram, PendingCounts } from './fast-metrics.js';
import { PolicyMetrics } from './policy-metrics.js';

/**
 * The webhook's Prometheus metrics, on a registry of its own (so tests and several servers in one process never
 * share counters). Label values that come from requests (kind) are bounded: a hostile or broken client cannot grow
 * the registry without limit.
 */
export class WebhookMetrics {
  readonly registry = new Registry();
  /** One count per answered review (not dryRun): decision allowed|denied|exempt. Per-policy results are in `policies`. */
  readonly requests: Counter<'operation' | 'kind' | 'decision'>;
  readonly policies: PolicyMetrics;
  readonly dryRun: Counter<'decision' | 'operation' | 'kind'>;
  readonly duration: FastHistogram;
  readonly policyErrors: Counter<'policy' | 'reason'>;
  readonly failOpen: Counter<'reason'>;
  readonly failClosed: Counter<'reason'>;
  readonly badRequests: Counter<'reason'>;
  readonly certReloads: Counter<'result'>;
  readonly namespaces: Gauge;
  readonly certExpiry: Gauge;
  readonly budget: Gauge;
  private readonly kinds = new Set<string>();
  private static readonly MAX_KINDS = 500;

  // Long: one declaration per metric (the names and help texts DESIGN lists), read top to bottom. Splitting it
  // would scatter the metric catalogue without making any part simpler.
  constructor(opts: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    const pendingRequests = new PendingCounts(['operation', 'kind', 'decision']);
    this.pendingRequests = pendingRequests;
    this.requests = new Counter({
      name: 'fleetgate_admission_requests_total',
      help: 'Admission reviews answered, one count each (decision=allowed|denied|exempt). dryRun reviews are not counted here.',
      labelNames: ['operation', 'kind', 'decision'],
      registers,
      collect() {
        pendingRequests.flushInto(this);
      },
    });
    this.dryRun = new Counter({
      name: 'fleetgate_admission_dry_run_requests_total',
      help: 'dryRun admission reviews answered (evaluated like the others, not counted as enforcement).',
      labelNames: ['decision', 'operation', 'kind'],
      registers,
    });
    this.duration = new FastHistogram({
      name: 'fleetgate_admission_duration_seconds',
      help: 'Time from a parsed AdmissionReview to its answer (dryRun included), by operation and decision.',
      labelName: ['operation', 'decision'],
      buckets: [0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.policyErrors = new Counter({
      name: 'fleetgate_policy_evaluation_errors_total',
      help: 'Policy evaluations that threw (reason=error) or reviews whose evaluation blew the time budget (reason=timeout, policy="").',
      labelNames: ['policy', 'reason'],
      registers,
    });
    this.failOpen = new Counter({
      name: 'fleetgate_admission_fail_open_total',
      help: 'Reviews admitted because a deny policy failed or the time budget ran out and failurePolicy is open.',
      labelNames: ['reason'],
      registers,
    });
    this.failClosed = new Counter({
      name: 'fleetgate_admission_fail_closed_total',
      help: 'Reviews denied because a deny policy failed or the time budget ran out and failurePolicy is closed.',
      labelNames: ['reason'],
      registers,
    });
    this.badRequests = new Counter({
      name: 'fleetgate_admission_bad_requests_total',
      help: 'Requests to /validate answered 400 or 413.',
      labelNames: ['reason'],
      registers,
    });
    this.certReloads = new Counter({
      name: 'fleetgate_tls_reloads_total',
      help: 'TLS certificate reloads after the cert/key files changed (result=ok|error).',
      labelNames: ['result'],
      registers,
    });
    this.namespaces = new Gauge({
      name: 'fleetgate_namespace_cache_size',
      help: 'Namespaces held by the namespace cache (0 without cluster access).',
      registers,
    });
    this.certExpiry = new Gauge({
      name: 'fleetgate_tls_certificate_expiry_timestamp_seconds',
      help: 'When the serving certificate in use expires (notAfter), in seconds since the epoch.',
      registers,
    });
    this.budget = new Gauge({
      name: 'fleetgate_admission_time_budget_seconds',
      help: 'The per-review time budget (timeoutMs): what the latency alert compares p99 latency with.',
      registers,
    });
    this.policies = new PolicyMetrics(registers);
    for (const r of ['ok', 'error']) this.certReloads.inc({ result: r }, 0);
    for (const r of ['error', 'timeout']) {
      this.failOpen.inc({ reason: r }, 0);
      this.failClosed.inc({ reason: r }, 0);
      this.policyErrors.inc({ policy: '', reason: r }, 0);
    }
    if (opts.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'fleetgate_' });
  }

  /** Counts a review on the hot path: a plain number until /metrics is scraped (see PendingCounts). */
  countRequest(operation: string, kind: string, decision: string): void {
    this.pendingRequests.add(operation, kind, decision);
  }

  observeDuration(operation: string, decision: string, seconds: number): void {
    this.duration.observe(operation, decision, seconds);
  }

  private readonly pendingRequests: PendingCounts;

  /** A kind as a label value: well-formed kind names, at most MAX_KINDS distinct ones, everything else "other". */
  kindLabel(kind: unknown): string {
    if (typeof kind !== 'string') return 'other';
    if (this.kinds.has(kind)) return kind;
    if (kind.length > 63 || !/^[A-Za-z][A-Za-z0-9]*$/.test(kind)) return 'other';
    if (this.kinds.size >= WebhookMetrics.MAX_KINDS) return 'other';
    this.kinds.add(kind);
    return kind;
  }
}
