import {
  Counter,
  register as defaultRegister,
  type Metric,
  type OpenMetricsContentType,
  type PrometheusContentType,
  type Registry,
} from 'prom-client';
import { ConfigError, type ConfigIssue } from '../errors.ts';
import {
  checkIstioRequestLabels,
  IstioLabelSet,
  type IstioPeerLabels,
  type IstioRequestLabels,
} from './istio-label-set.ts';
import {
  ISTIO_DURATION_BUCKETS_MS,
  ISTIO_LABEL_NAMES,
  ISTIO_REPORTERS,
  ISTIO_REQUEST_BYTES,
  ISTIO_REQUEST_DURATION_MILLISECONDS,
  ISTIO_REQUESTS_TOTAL,
  ISTIO_RESPONSE_BYTES,
  ISTIO_SIZE_BUCKETS_BYTES,
  type IstioLabelName,
  type IstioReporter,
  istioMetric,
} from './istio-metric-names.ts';
import { PreAggregatedHistogram } from './pre-aggregated-histogram.ts';
import { ResponseLabelSets } from './response-label-sets.ts';

/** A prom-client registry in either exposition format. */
export type MetricsRegistry = Registry<PrometheusContentType> | Registry<OpenMetricsContentType>;

/** Options of {@link createIstioMetrics}. */
export interface IstioMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's default `register`. */
  readonly registry?: MetricsRegistry | undefined;
  /** `source` for outbound requests (this process is the client), `destination` for inbound. */
  readonly reporter: IstioReporter;
}

const SOURCE = 'createIstioMetrics';
const EXPORTED = [
  ISTIO_REQUESTS_TOTAL,
  ISTIO_REQUEST_DURATION_MILLISECONDS,
  ISTIO_REQUEST_BYTES,
  ISTIO_RESPONSE_BYTES,
];

/**
 * Istio's HTTP request metrics (`istio_requests_total`, `istio_request_duration_milliseconds`,
 * `istio_request_bytes`, `istio_response_bytes`) for one reporter.
 *
 * Recording touches only plain numbers in an interned {@link IstioLabelSet}; prom-client sees the
 * counts only when the registry is scraped. Label values come from {@link labelSet} calls made with
 * configuration and closed sets, so the number of series is bounded by the configuration, never by
 * the requests.
 */
export class IstioRequestMetrics {
  readonly reporter: IstioReporter;
  readonly registry: MetricsRegistry;
  /** Keyed by every label value, `reporter` included: reporters may share one map. */
  readonly #sets: Map<string, IstioLabelSet> = new Map();
  readonly #durationBounds = Float64Array.from(ISTIO_DURATION_BUCKETS_MS);
  readonly #sizeBounds = Float64Array.from(ISTIO_SIZE_BUCKETS_BYTES);

  /**
   * Use {@link createIstioMetrics}, which validates the options.
   *
   * @param shared - the label sets of another reporter's recorder ({@link forReporter}): its
   *   metrics are already registered and export these sets too.
   */
  constructor(reporter: IstioReporter, registry: MetricsRegistry, shared?: Map<string, IstioLabelSet>) {
    this.reporter = reporter;
    this.registry = registry;
    if (shared !== undefined) {
      this.#sets = shared;
      return;
    }
    const sets = this.#sets;
    // A counter's value can be restated through the public API (reset, then inc by the total), so
    // the counter stays a plain prom-client Counter; collect() runs synchronously right before
    // get() reads it.
    new Counter({
      name: ISTIO_REQUESTS_TOTAL,
      help: istioMetric(ISTIO_REQUESTS_TOTAL).help,
      labelNames: ISTIO_LABEL_NAMES,
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sets.values()) if (s.requests > 0) this.inc(s.labels, s.requests);
      },
    });
    const histogram = (
      name: string,
      bounds: readonly number[],
      pick: (s: IstioLabelSet) => IstioLabelSet['duration'],
    ) =>
      // prom-client types registerMetric() to its own four classes; its Registry only calls
      // get()/reset() and reads name/help/type/aggregator, which PreAggregatedHistogram provides.
      registry.registerMetric(
        new PreAggregatedHistogram({
          name,
          help: istioMetric(name).help,
          labelNames: ISTIO_LABEL_NAMES,
          bounds,
          series: function* () {
            for (const s of sets.values()) yield { labels: s.labels, counts: pick(s) };
          },
        }) as unknown as Metric,
      );
    histogram(ISTIO_REQUEST_DURATION_MILLISECONDS, ISTIO_DURATION_BUCKETS_MS, (s) => s.duration);
    histogram(ISTIO_REQUEST_BYTES, ISTIO_SIZE_BUCKETS_BYTES, (s) => s.requestBytes);
    histogram(ISTIO_RESPONSE_BYTES, ISTIO_SIZE_BUCKETS_BYTES, (s) => s.responseBytes);
  }

  /**
   * The interned label set for a combination of labels (all but `reporter`). Call it when
   * configuration is compiled, or through {@link forPeer}; never with values read from a request.
   *
   * @throws ConfigError (`DABBA_CONFIG_INVALID`) listing every label outside its closed set.
   */
  labelSet(labels: IstioRequestLabels): IstioLabelSet {
    const key = JSON.stringify(ISTIO_LABEL_NAMES.map((n) => (n === 'reporter' ? this.reporter : labels[n])));
    const found = this.#sets.get(key);
    if (found !== undefined) return found;
    const issues = checkIstioRequestLabels(labels, SOURCE);
    if (issues.length > 0) throw new ConfigError(issues);
    const all = {} as Record<IstioLabelName, string>;
    for (const n of ISTIO_LABEL_NAMES) all[n] = n === 'reporter' ? this.reporter : labels[n];
    const set = new IstioLabelSet(Object.freeze(all), this.#durationBounds, this.#sizeBounds);
    this.#sets.set(key, set);
    return set;
  }

  /** The label sets of one peer by response, to resolve per cluster when a snapshot is compiled. */
  forPeer(peer: IstioPeerLabels): ResponseLabelSets {
    return new ResponseLabelSets(Object.freeze({ ...peer }), (labels) => this.labelSet(labels));
  }

  /**
   * Records one finished request. No allocation, no lookup, no prom-client call.
   *
   * @param durationMs - from request start to the end of the response, in milliseconds. Truncated
   *   to whole milliseconds, as istio_stats.cc records `requestComplete()` in integer milliseconds.
   * @param requestBytes - bytes of the request, headers and body, finite and >= 0.
   * @param responseBytes - bytes of the response, headers and body, finite and >= 0.
   */
  record(set: IstioLabelSet, durationMs: number, requestBytes: number, responseBytes: number): void {
    set.requests++;
    set.duration.observe(Math.trunc(durationMs));
    set.requestBytes.observe(requestBytes);
    set.responseBytes.observe(responseBytes);
  }

  /**
   * A recorder for the other side of the same metrics: `reporter="destination"` next to
   * `reporter="source"`, as one sidecar exports both, in one registry and under the same four
   * metric names. Nothing new is registered; `unregister()` on either removes the metrics.
   */
  forReporter(reporter: IstioReporter): IstioRequestMetrics {
    if (reporter === this.reporter) return this;
    return new IstioRequestMetrics(reporter, this.registry, this.#sets);
  }

  /**
   * How many label sets have been interned, for every reporter sharing them: an upper bound on
   * the series of each metric.
   */
  get labelSetCount(): number {
    return this.#sets.size;
  }

  /** Removes this recorder's metrics from its registry (for example when the mesh closes). */
  unregister(): void {
    for (const name of EXPORTED) this.registry.removeSingleMetric(name);
  }
}

/**
 * Creates Istio's request metrics and registers them in `options.registry`, else in prom-client's
 * default `register`. Nothing is registered anywhere else.
 *
 * @throws ConfigError (`DABBA_CONFIG_INVALID`) when the reporter is not `source` or `destination`,
 *   or when the registry already holds a metric of the same name (prom-client would throw halfway).
 */
export function createIstioMetrics(options: IstioMetricsOptions): IstioRequestMetrics {
  const registry = options.registry ?? defaultRegister;
  const issues: ConfigIssue[] = [];
  if (!(ISTIO_REPORTERS as readonly string[]).includes(options.reporter)) {
    issues.push({
      source: SOURCE,
      path: 'reporter',
      message: `must be 'source' or 'destination', got ${JSON.stringify(options.reporter)}`,
    });
  }
  for (const name of EXPORTED) {
    if (registry.getSingleMetric(name) !== undefined) {
      issues.push({ source: SOURCE, path: 'registry', message: `already has a metric named ${name}` });
    }
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return new IstioRequestMetrics(options.reporter, registry);
}
