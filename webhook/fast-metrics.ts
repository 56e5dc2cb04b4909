import type { Counter, Metric, Registry } from 'prom-client';

/**
 * Metrics on the admission hot path, kept as plain numbers. prom-client's labelled `inc`/`observe` hash their
 * label objects on every call (about a microsecond each, several per review); these record into arrays and maps
 * and hand prom-client the totals only when /metrics is scraped.
 */

/** Increments of a four-label counter, added to a prom-client Counter from its `collect` hook. */
export class PendingCounts {
  private readonly pending = new Map<string, { values: string[]; n: number }>();

  constructor(private readonly labelNames: readonly [string, string, string, string]) {}

  add(a: string, b: string, c: string, d: string): void {
    const key = `${a}\u0000${b}\u0000${c}\u0000${d}`;
    const p = this.pending.get(key);
    if (p) p.n++;
    else this.pending.set(key, { values: [a, b, c, d], n: 1 });
  }

  flushInto(counter: Counter<string>): void {
    for (const p of this.pending.values()) {
      if (!p.n) continue;
      counter.inc(Object.fromEntries(this.labelNames.map((l, i) => [l, p.values[i]])), p.n);
      p.n = 0;
    }
  }
}

interface Series {
  /** Observations per bucket (not cumulative), the last one for +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram with one label, registered on prom-client registries as a metric of its own
 * (prom-client asks a metric for `get()`; the exposition is the same as prom-client's Histogram).
 */
export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly labelName: string;
  private readonly buckets: readonly number[];
  private readonly series = new Map<string, Series>();

  constructor(cfg: { name: string; help: string; labelName: string; buckets: readonly number[]; registers: Registry[] }) {
    this.name = cfg.name;
    this.help = cfg.help;
    this.labelName = cfg.labelName;
    this.buckets = [...cfg.buckets].sort((a, b) => a - b);
    for (const r of cfg.registers) r.registerMetric(this as unknown as Metric);
  }

  observe(label: string, value: number): void {
    if (!Number.isFinite(value)) return;
    let s = this.series.get(label);
    if (!s) this.series.set(label, (s = { counts: new Float64Array(this.buckets.length + 1), sum: 0, count: 0 }));
    let i = 0;
    while (i < this.buckets.length && value > this.buckets[i]) i++;
    s.counts[i]++;
    s.sum += value;
    s.count++;
  }

  /** The metric as prom-client's registry formats it. */
  async get() {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const [label, s] of this.series) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ value: cumulative, labels: { le, [this.labelName]: label }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: s.count, labels: { le: '+Inf', [this.labelName]: label }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: { [this.labelName]: label }, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: { [this.labelName]: label }, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.series.clear();
  }
}
