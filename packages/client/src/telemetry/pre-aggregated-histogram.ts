import type { BucketCounts } from './bucket-counts.ts';

/** One series of a histogram: its labels and its counts. */
export interface HistogramSeries {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: BucketCounts;
}

/**
 * One sample as prom-client's registry formats it (the shape its own Histogram returns):
 * `sharedLabels` are the series' labels, `labels` only what differs per sample (`le`).
 */
interface Sample {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly sharedLabels: Readonly<Record<string, string>>;
  readonly value: number;
}

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/**
 * A histogram whose buckets are counted elsewhere, exported through a prom-client Registry.
 *
 * Why not prom-client's `Histogram` with `collect()`: a Histogram only takes single observations
 * (`observe`), and has no way to set a series' bucket counts, sum and count. Replaying every
 * observation at scrape time is out of the question, and its bucket map is private. prom-client has
 * no custom-collector API either (prometheus/client_js#241 asked for one). What its Registry does
 * have is a duck-typed contract: `registerMetric(m)` stores any object, and `metrics()` calls
 * `m.getForPromString()` (else `m.get()`) and formats the `{ name, help, type, values }` it
 * returns, each value with its own `metricName`, exactly as its Histogram returns `_bucket` /
 * `_sum` / `_count` samples. This class
 * fulfils that contract, so the text format, escaping, default labels, OpenMetrics and
 * `getMetricsAsJSON()` all stay prom-client's.
 */
export class PreAggregatedHistogram {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram' as const;
  /** How prom-client's AggregatorRegistry merges workers: bucket counts add up. */
  readonly aggregator = 'sum' as const;
  readonly labelNames: readonly string[];
  readonly #series: () => Iterable<HistogramSeries>;
  /** `{ le }` objects, one per bound and `+Inf`, shared by every series and scrape. */
  readonly #le: readonly Readonly<Record<'le', string>>[];

  /**
   * @param series - read at scrape time; series with no observation are left out, as Envoy only
   *   creates a histogram on its first value.
   */
  constructor(options: {
    name: string;
    help: string;
    labelNames: readonly string[];
    bounds: readonly number[];
    series: () => Iterable<HistogramSeries>;
  }) {
    this.name = options.name;
    this.help = options.help;
    this.labelNames = options.labelNames;
    this.#series = options.series;
    // Formatted once; String() prints 0.5 and 3600000 as Envoy's %.32g does.
    this.#le = [...options.bounds.map(String), '+Inf'].map((le) => Object.freeze({ le }));
  }

  /**
   * The samples for the text format, built from the current counts: cumulative `le` buckets,
   * `+Inf`, sum and count. Each series' labels go in `sharedLabels`, the same frozen object on
   * every scrape, which prom-client formats once and caches (a WeakMap in its registry): with 25
   * Istio labels that string is most of the work.
   */
  async getForPromString(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: Sample[];
  }> {
    const bucket = `${this.name}_bucket`;
    const sum = `${this.name}_sum`;
    const count = `${this.name}_count`;
    const le = this.#le;
    const values: Sample[] = [];
    for (const { labels, counts } of this.#series()) {
      if (counts.count === 0) continue;
      let cumulative = 0;
      for (let i = 0; i < le.length - 1; i++) {
        cumulative += counts.counts[i]!;
        values.push({ metricName: bucket, labels: le[i]!, sharedLabels: labels, value: cumulative });
      }
      values.push({
        metricName: bucket,
        labels: le[le.length - 1]!,
        sharedLabels: labels,
        value: counts.count,
      });
      values.push({ metricName: sum, labels: NO_LABELS, sharedLabels: labels, value: counts.sum });
      values.push({ metricName: count, labels: NO_LABELS, sharedLabels: labels, value: counts.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** The same samples with each one's labels merged, for `getMetricsAsJSON()` and cluster aggregation. */
  async get(): Promise<{
    name: string;
    help: string;
    type: 'histogram';
    aggregator: 'sum';
    values: { metricName: string; labels: Record<string, string>; value: number }[];
  }> {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map((v) => ({
        metricName: v.metricName,
        labels: { ...v.sharedLabels, ...v.labels },
        value: v.value,
      })),
    };
  }

  /**
   * Called by `Registry.resetMetrics()`. The counts belong to the recorder and are cumulative, as
   * a sidecar's are; dropping them here would only fake a counter reset, so nothing happens.
   */
  reset(): void {}
}
