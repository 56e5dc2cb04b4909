import type { Counter, Metric, Registry } from 'prom-client';

/**
 * Metrics on the admission hot path, kept as plain numbers. prom-client's labelled `inc`/`observe` hash their
 * label objects on every call (about a microsecond each, several per review); these record into arrays and maps
 * and hand prom-client the totals only when /metrics is scraped.
 */

/** Increments of a counter with up to four labels, added to a prom-client Counter from its `collect` hook. */
export class PendingCounts {
  /** Label value by label value (a tree of maps): a count is found without building a key string. */
  private readonly pending: Level = new Map();

  constructor(private readonly labelNames: readonly string[]) {}

  /** Label values in `labelNames` order (labels beyond them are left out). */
  add(a: string, b: string, c: string, d = ''): void {
    const p = this.pending;
    let pb = p.get(a) as Level | undefined;
    if (!pb) p.set(a, (pb = new Map()));
    let pc = pb.get(b) as Level | undefined;
    if (!pc) pb.set(b, (pc = new Map()));
    let pd = pc.get(c) as Level | undefined;
    if (!pd) pc.set(c, (pd = new Map()));
    const n = pd.get(d) as Pending | undefined;
    if (n) n.n++;
    else pd.set(d, { values: [a, b, c, d], n: 1 });
  }

  flushInto(counter: Counter<string>): void {
    const walk = (level: Level, depth: number): void => {
      for (const v of level.values()) {
        if (depth < 3) {
          walk(v as Level, depth + 1);
          continue;
        }
        const p = v as Pending;
        if (!p.n) continue;
        counter.inc(Object.fromEntries(this.labelNames.map((l, i) => [l, p.values[i]])), p.n);
        p.n = 0;
      }
    };
    walk(this.pending, 0);
  }
}

interface Pending {
  values: string[];
  n: number;
}
type Level = Map<string, Level | Pending>;

/** One labelled series of a FastHistogram: observations per bucket (not cumulative; the last one is +Inf), sum, count. */
export class HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    private readonly buckets: readonly number[],
    readonly labels: Record<string, string>,
  ) {
    this.counts = new Float64Array(buckets.length + 1);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) return; // a non-finite duration can only be a clock glitch
    const { buckets } = this;
    let i = 0;
    while (i < buckets.length && value > buckets[i]) i++;
    this.counts[i]++;
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram registered on prom-client registries as a metric of its own (prom-client asks a metric for
 * `get()`; the exposition is the same as prom-client's Histogram). Hot paths keep the HistogramSeries of their label
 * values (`series`) and observe without any lookup.
 */
export class FastHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly labelNames: readonly string[];
  private readonly buckets: readonly number[];
  private readonly index = new Map<string, Map<string, HistogramSeries>>();
  /** Every series, in the order they were made (the exposition's order). */
  private readonly all: HistogramSeries[] = [];

  constructor(cfg: { name: string; help: string; labelName: string | readonly string[]; buckets: readonly number[]; registers: Registry[] }) {
    this.name = cfg.name;
    this.help = cfg.help;
    this.labelNames = typeof cfg.labelName === 'string' ? [cfg.labelName] : cfg.labelName;
    this.buckets = [...cfg.buckets].sort((a, b) => a - b);
    for (const r of cfg.registers) r.registerMetric(this as unknown as Metric);
  }

  /** The series of these label values, in the order of the label names. */
  series(a: string, b = ''): HistogramSeries {
    // By the first value, then the second: no key string is built per observation.
    let byB = this.index.get(a);
    if (!byB) this.index.set(a, (byB = new Map()));
    let s = byB.get(b);
    if (!s) {
      const labels: Record<string, string> = { [this.labelNames[0]]: a };
      if (this.labelNames.length > 1) labels[this.labelNames[1]] = b;
      byB.set(b, (s = new HistogramSeries(this.buckets, labels)));
      this.all.push(s);
    }
    return s;
  }

  /** Observes a value for these label values (one or two labels). */
  observe(a: string, value: number): void;
  observe(a: string, b: string, value: number): void;
  observe(a: string, b: string | number, value?: number): void {
    if (typeof b === 'number') this.series(a).observe(b);
    else this.series(a, b).observe(value!);
  }

  /** The metric as prom-client's registry formats it. */
  async get() {
    const values: { value: number; labels: Record<string, string | number>; metricName: string }[] = [];
    for (const s of this.all) {
      let cumulative = 0;
      this.buckets.forEach((le, i) => {
        cumulative += s.counts[i];
        values.push({ value: cumulative, labels: { le, ...s.labels }, metricName: `${this.name}_bucket` });
      });
      values.push({ value: s.count, labels: { le: '+Inf', ...s.labels }, metricName: `${this.name}_bucket` });
      values.push({ value: s.sum, labels: s.labels, metricName: `${this.name}_sum` });
      values.push({ value: s.count, labels: s.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  reset(): void {
    this.index.clear();
    this.all.length = 0;
  }
}
