/**
 * Istio's standard metrics as a sidecar exports them, so that Istio's Grafana dashboards and Kiali
 * read a Dabba service like any other workload.
 *
 * Sources:
 * - istio.io "Istio Standard Metrics" (content/en/docs/reference/config/metrics/index.md in
 *   istio/istio.io): metric names, COUNTER / DISTRIBUTION, label meanings.
 * - istio/proxy source/extensions/filters/http/istio_stats/istio_stats.cc: the exact metric and tag
 *   names (`Context`), the tag values (`unknown`, `latest`, `mutual_tls`, `none`, `http`, `grpc`,
 *   `tcp`), and the units (milliseconds, bytes). Its metrics live in Envoy's `istiocustom` stat
 *   namespace, which Envoy's Prometheus output strips, so the exported names are the bare ones below.
 * - Envoy source/common/stats/histogram_impl.cc `HistogramSettingsImpl::defaultBuckets()`: the
 *   buckets of every histogram, since Istio's bootstrap (istio/istio
 *   tools/packaging/common/envoy_bootstrap.json) sets `histogram_bucket_settings` only when the pod
 *   has the `sidecar.istio.io/statsHistogramBuckets` annotation.
 */
import { ENVOY_RESPONSE_FLAG_ORDER, NO_RESPONSE_FLAGS } from '@dabba/core';

/** HTTP/gRPC request count (COUNTER). */
export const ISTIO_REQUESTS_TOTAL = 'istio_requests_total';
/** HTTP/gRPC request duration in milliseconds (DISTRIBUTION). */
export const ISTIO_REQUEST_DURATION_MILLISECONDS = 'istio_request_duration_milliseconds';
/** HTTP request size in bytes (DISTRIBUTION). */
export const ISTIO_REQUEST_BYTES = 'istio_request_bytes';
/** HTTP response size in bytes (DISTRIBUTION). */
export const ISTIO_RESPONSE_BYTES = 'istio_response_bytes';
/** gRPC messages sent by the client (COUNTER). */
export const ISTIO_REQUEST_MESSAGES_TOTAL = 'istio_request_messages_total';
/** gRPC messages sent by the server (COUNTER). */
export const ISTIO_RESPONSE_MESSAGES_TOTAL = 'istio_response_messages_total';
/** Bytes sent during the response of a TCP connection (COUNTER). */
export const ISTIO_TCP_SENT_BYTES_TOTAL = 'istio_tcp_sent_bytes_total';
/** Bytes received during the request of a TCP connection (COUNTER). */
export const ISTIO_TCP_RECEIVED_BYTES_TOTAL = 'istio_tcp_received_bytes_total';
/** TCP connections opened (COUNTER). */
export const ISTIO_TCP_CONNECTIONS_OPENED_TOTAL = 'istio_tcp_connections_opened_total';
/** TCP connections closed (COUNTER). */
export const ISTIO_TCP_CONNECTIONS_CLOSED_TOTAL = 'istio_tcp_connections_closed_total';

/** Istio's metric kind (its docs' words) and the Prometheus type Envoy exports it as. */
export interface IstioMetricDescriptor {
  readonly name: string;
  /** As istio.io names it. */
  readonly kind: 'COUNTER' | 'DISTRIBUTION';
  /** The `# TYPE` Envoy's Prometheus output gives it. */
  readonly prometheusType: 'counter' | 'histogram';
  /** Which traffic produces it. */
  readonly traffic: 'http' | 'grpc' | 'tcp';
  /** The `# HELP` text. Envoy prints no HELP line; prom-client requires one. */
  readonly help: string;
}

/** Every Istio standard metric, in the order istio.io lists them. */
export const ISTIO_STANDARD_METRICS: readonly IstioMetricDescriptor[] = Object.freeze(
  [
    {
      name: ISTIO_REQUESTS_TOTAL,
      kind: 'COUNTER',
      traffic: 'http',
      help: 'Request Count: incremented for every request handled by an Istio proxy.',
    },
    {
      name: ISTIO_REQUEST_DURATION_MILLISECONDS,
      kind: 'DISTRIBUTION',
      traffic: 'http',
      help: 'Request Duration: the duration of requests, in milliseconds.',
    },
    {
      name: ISTIO_REQUEST_BYTES,
      kind: 'DISTRIBUTION',
      traffic: 'http',
      help: 'Request Size: HTTP request sizes, in bytes.',
    },
    {
      name: ISTIO_RESPONSE_BYTES,
      kind: 'DISTRIBUTION',
      traffic: 'http',
      help: 'Response Size: HTTP response sizes, in bytes.',
    },
    {
      name: ISTIO_REQUEST_MESSAGES_TOTAL,
      kind: 'COUNTER',
      traffic: 'grpc',
      help: 'gRPC Request Message Count: incremented for every gRPC message sent from a client.',
    },
    {
      name: ISTIO_RESPONSE_MESSAGES_TOTAL,
      kind: 'COUNTER',
      traffic: 'grpc',
      help: 'gRPC Response Message Count: incremented for every gRPC message sent from a server.',
    },
    {
      name: ISTIO_TCP_SENT_BYTES_TOTAL,
      kind: 'COUNTER',
      traffic: 'tcp',
      help: 'Tcp Bytes Sent: bytes sent during response in case of a TCP connection.',
    },
    {
      name: ISTIO_TCP_RECEIVED_BYTES_TOTAL,
      kind: 'COUNTER',
      traffic: 'tcp',
      help: 'Tcp Bytes Received: bytes received during request in case of a TCP connection.',
    },
    {
      name: ISTIO_TCP_CONNECTIONS_OPENED_TOTAL,
      kind: 'COUNTER',
      traffic: 'tcp',
      help: 'Tcp Connections Opened: incremented for every opened connection.',
    },
    {
      name: ISTIO_TCP_CONNECTIONS_CLOSED_TOTAL,
      kind: 'COUNTER',
      traffic: 'tcp',
      help: 'Tcp Connections Closed: incremented for every closed connection.',
    },
  ].map((m) =>
    Object.freeze({
      ...m,
      kind: m.kind as IstioMetricDescriptor['kind'],
      traffic: m.traffic as IstioMetricDescriptor['traffic'],
      prometheusType: m.kind === 'COUNTER' ? ('counter' as const) : ('histogram' as const),
    }),
  ),
);

/** The descriptor of a standard metric by name. */
export function istioMetric(name: string): IstioMetricDescriptor {
  const m = ISTIO_STANDARD_METRICS.find((x) => x.name === name);
  if (m === undefined) throw new RangeError(`not an Istio standard metric: ${name}`);
  return m;
}

/**
 * The labels of the HTTP/gRPC metrics, in the order of istio_stats.cc's `all_tags_`. Every series
 * carries all of them; a value Istio does not know is `unknown` (or empty for
 * `grpc_response_status` on plain HTTP), never absent.
 */
export const ISTIO_LABEL_NAMES = Object.freeze([
  'reporter',
  'source_workload',
  'source_workload_namespace',
  'source_principal',
  'source_app',
  'source_version',
  'source_canonical_service',
  'source_canonical_revision',
  'source_cluster',
  'destination_workload',
  'destination_workload_namespace',
  'destination_principal',
  'destination_app',
  'destination_version',
  'destination_service',
  'destination_service_name',
  'destination_service_namespace',
  'destination_canonical_service',
  'destination_canonical_revision',
  'destination_cluster',
  'request_protocol',
  'response_flags',
  'connection_security_policy',
  'response_code',
  'grpc_response_status',
] as const);

/** One label of the HTTP/gRPC metrics. */
export type IstioLabelName = (typeof ISTIO_LABEL_NAMES)[number];

/**
 * The labels of the TCP metrics: istio_stats.cc's TCP path adds `request_protocol="tcp"`, the
 * response flags and the security policy, but no response code or gRPC status.
 */
export const ISTIO_TCP_LABEL_NAMES: readonly IstioLabelName[] = Object.freeze(
  ISTIO_LABEL_NAMES.filter((n) => n !== 'response_code' && n !== 'grpc_response_status'),
);

/** `reporter` values: `source` on the client side (outbound), `destination` on the server side. */
export const ISTIO_REPORTERS = Object.freeze(['source', 'destination'] as const);
/** Which side of a request records it. */
export type IstioReporter = (typeof ISTIO_REPORTERS)[number];

/** The value Istio writes when it does not know a workload attribute. */
export const ISTIO_UNKNOWN = 'unknown';
/** The value Istio writes for a missing canonical revision. */
export const ISTIO_LATEST = 'latest';
/** `response_flags` when Envoy set none (`ResponseFlagUtils::toShortString` of no flags). */
export { NO_RESPONSE_FLAGS };

/** `request_protocol` values istio_stats.cc writes. */
export const ISTIO_REQUEST_PROTOCOLS = Object.freeze(['http', 'grpc', 'tcp'] as const);
/**
 * `connection_security_policy` values: `mutual_tls` or `none` on the destination side; the source
 * side always writes `unknown` (istio.io: "cannot be properly populated" there).
 */
export const ISTIO_CONNECTION_SECURITY_POLICIES = Object.freeze(['mutual_tls', 'none', 'unknown'] as const);

/**
 * Envoy's short response flags in the order `toShortString` writes them
 * (`ResponseFlagUtils::CORE_RESPONSE_FLAGS`): @dabba/core's list, named here where the metric
 * labels read it.
 */
export const ENVOY_RESPONSE_FLAGS = ENVOY_RESPONSE_FLAG_ORDER;

/**
 * Envoy's default histogram buckets (`HistogramSettingsImpl::defaultBuckets()`), which Istio's
 * sidecars use for all three distributions unless the pod overrides them.
 */
export const ENVOY_DEFAULT_HISTOGRAM_BUCKETS: readonly number[] = Object.freeze([
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
]);

/** Buckets of `istio_request_duration_milliseconds`, in milliseconds. */
export const ISTIO_DURATION_BUCKETS_MS: readonly number[] = ENVOY_DEFAULT_HISTOGRAM_BUCKETS;
/** Buckets of `istio_request_bytes` and `istio_response_bytes`, in bytes (the same defaults). */
export const ISTIO_SIZE_BUCKETS_BYTES: readonly number[] = ENVOY_DEFAULT_HISTOGRAM_BUCKETS;
