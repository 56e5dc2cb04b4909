import type { Metric, Registry } from 'prom-client';
import { resolveAction, type ClusterContext } from '../src/engine/index.js';
import type { Policy } from '../src/authoring/index.js';
import type { Finding } from '../src/model/index.js';
import { FastHistogram, type HistogramSeries } from './fast-metrics.js';

/**
 * Per-policy metrics of the webhook: what each policy concluded (`fleetgate_policy_results_total{policy,action,result}`)
 * and how long it ran (`fleetgate_policy_execution_duration_seconds{policy}`). Like the other hot-path metrics they
 * are plain numbers on a PolicyStat until /metrics is scraped.
 *
 * Built-in policies are timed by a wrapper around their `validate` (`instrument`): it observes the duration and notes
 * that the policy ran (one clock read per policy with tracing off: each starts where the previous one of the review
 * ended); the handler then settles the review's runs against its findings (`settle`). User policies run
 * in the sandbox isolate: their results come from the isolate's per-policy checks and the findings, their time from
 * the isolate's own measurements when it returns.
 */

/** Microseconds (a built-in policy on a typical object) up to seconds (a user policy near the time budget). */
export const POLICY_DURATION_BUCKETS = [1e-6, 2.5e-6, 5e-6, 1e-5, 2.5e-5, 5e-5, 1e-4, 2.5e-4, 1e-3, 5e-3, 0.025, 0.1, 0.5, 2.5];

export interface PolicyTiming {
  policy: string;
  /** Epoch milliseconds. */
  startMs: number;
  endMs: number;
}

export class PolicyStat {
  pass = 0;
  fail = 0;
  error = 0;
  /** Review number in which this policy last failed / threw (so one review counts once per policy). */
  failedIn = -1;
  erroredIn = -1;
  /** Review number in which this policy was last counted (pass, fail or error). */
  countedIn = -1;

  constructor(
    readonly policy: string,
    readonly action: string,
    readonly time: HistogramSeries,
  ) {}
}

export class PolicyMetrics {
  readonly duration: FastHistogram;
  private readonly stats = new Map<string, PolicyStat>();
  /** Stats of the instrumented policies that ran since the last settle/take (evaluation is synchronous per object). */
  private ran: PolicyStat[] = [];
  private timings: PolicyTiming[] = [];
  private review = 0;
  /** When the last instrumented policy of the evaluation in progress ended (-1: none yet; reset when its runs are taken). */
  private lastEnd = -1;

  constructor(registers: Registry[]) {
    this.duration = new FastHistogram({
      name: 'fleetgate_policy_execution_duration_seconds',
      help: 'Time one policy took to judge one admitted object (built-in policies in-process; user policies in the sandbox isolate).',
      labelName: 'policy',
      buckets: POLICY_DURATION_BUCKETS,
      registers,
    });
    const stats = this.stats;
    const results = {
      name: 'fleetgate_policy_results_total',
      help: 'Policy evaluations in admission reviews (dryRun included), by result: pass (nothing found), fail (findings), error (the policy threw or was stopped). action is the policy\'s action in this cluster.',
      type: 'counter',
      aggregator: 'sum',
      async get() {
        const values: { value: number; labels: Record<string, string> }[] = [];
        for (const s of stats.values())
          for (const result of ['pass', 'fail', 'error'] as const) values.push({ value: s[result], labels: { policy: s.policy, action: s.action, result } });
        return { name: results.name, help: results.help, type: results.type, values, aggregator: results.aggregator };
      },
      reset() {},
    };
    for (const r of registers) r.registerMetric(results as unknown as Metric);
  }

  /** The stat of a policy (created on first use; ids come from loaded policies, so the set is bounded). */
  stat(policy: string, action: string): PolicyStat {
    let s = this.stats.get(policy);
    if (!s) this.stats.set(policy, (s = new PolicyStat(policy, action, this.duration.series(policy))));
    return s;
  }

  /**
   * The policies with their in-process `validate` timed and noted as run. User policies (those with a file) run in
   * the sandbox isolate from their files and are returned unchanged.
   */
  instrument(policies: readonly Policy[], cluster: ClusterContext, opts: { trace?: boolean } = {}): Policy[] {
    return policies.map((p) => {
      const stat = this.stat(p.id, resolveAction(p, cluster.actions));
      if (p.file) return p;
      const validate = p.validate as (ctx: unknown) => void;
      const ran = () => this.ran;
      const timings = () => this.timings;
      // Two wrappers, chosen once: with tracing off the hot path does not even test for it.
      const timed = opts.trace
        ? (ctx: unknown) => {
            const started = performance.now();
            try {
              validate(ctx);
            } finally {
              const ended = performance.now();
              stat.time.observe((ended - started) / 1000);
              ran().push(stat);
              timings().push({ policy: p.id, startMs: performance.timeOrigin + started, endMs: performance.timeOrigin + ended });
            }
          }
        : (ctx: unknown) => {
            // One clock read per policy: a review's first policy reads its start, each later one starts where the
            // previous one ended (the engine's step between two policies is counted in the later one).
            const started = this.lastEnd >= 0 ? this.lastEnd : performance.now();
            try {
              validate(ctx);
            } finally {
              const ended = (this.lastEnd = performance.now());
              stat.time.observe((ended - started) / 1000);
              ran().push(stat);
            }
          };
      return { ...p, validate: timed as Policy['validate'] };
    });
  }

  /** When each traced policy ran since the last call (instrument with `trace`): the child spans of a review. */
  takeTimings(): PolicyTiming[] {
    const t = this.timings;
    this.timings = [];
    return t;
  }

  /** The instrumented policies that ran since the last call (taken right after an evaluation starts). */
  takeRuns(): PolicyStat[] {
    this.lastEnd = -1;
    const r = this.ran;
    this.ran = [];
    return r;
  }

  /** Forgets runs of an evaluation that failed as a whole (its policies are not judged as pass or fail). */
  discardRuns(): void {
    this.lastEnd = -1;
    this.ran.length = 0;
  }

  /**
   * Counts one review's results: every policy that ran is pass, fail or error (each once), from the findings.
   * `runs` defaults to the runs noted since the last call (the synchronous path); `checks` are the per-policy checks
   * the sandbox reported (user policies).
   */
  settle(findings: readonly Finding[], runs?: PolicyStat[], checks?: Record<string, number>): void {
    if (!runs) this.lastEnd = -1;
    const review = ++this.review;
    for (const f of findings) {
      const s = this.stats.get(f.policy);
      if (!s) continue; // the engine's own findings (exception-expired, ...)
      if (f.error) s.erroredIn = review;
      else s.failedIn = review;
    }
    // Each policy counted once per review: `countedIn` stamps it (no set of the review's runs is built).
    const count = (s: PolicyStat) => {
      s.countedIn = review;
      if (s.erroredIn === review) s.error++;
      else if (s.failedIn === review) s.fail++;
      else s.pass++;
    };
    const ran = runs ?? this.ran;
    for (const s of ran) count(s);
    if (!runs) ran.length = 0;
    // User policies: they ran if the sandbox checked an object with them or they produced a finding (a stopped one).
    if (checks)
      for (const id in checks) {
        const s = this.stats.get(id);
        if (s && s.countedIn !== review) count(s);
      }
    for (const f of findings) {
      const s = this.stats.get(f.policy);
      if (s && s.countedIn !== review) count(s);
    }
  }
}

