/**
 * The names, kinds, labels and buckets Istio's dashboards and Kiali query, pinned against:
 * istio.io "Istio Standard Metrics" (istio/istio.io content/en/docs/reference/config/metrics/index.md),
 * istio/proxy source/extensions/filters/http/istio_stats/istio_stats.cc (metric and tag names), and
 * Envoy source/common/stats/histogram_impl.cc HistogramSettingsImpl::defaultBuckets().
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  ENVOY_DEFAULT_HISTOGRAM_BUCKETS,
  ISTIO_DURATION_BUCKETS_MS,
  ISTIO_LABEL_NAMES,
  ISTIO_SIZE_BUCKETS_BYTES,
  ISTIO_STANDARD_METRICS,
  ISTIO_TCP_LABEL_NAMES,
  istioMetric,
} from '../../src/telemetry/istio-metric-names.ts';

describe('Istio standard metrics', () => {
  test('names and kinds as istio.io lists them', () => {
    assert.deepEqual(
      ISTIO_STANDARD_METRICS.map((m) => [m.name, m.kind, m.prometheusType, m.traffic]),
      [
        ['istio_requests_total', 'COUNTER', 'counter', 'http'],
        ['istio_request_duration_milliseconds', 'DISTRIBUTION', 'histogram', 'http'],
        ['istio_request_bytes', 'DISTRIBUTION', 'histogram', 'http'],
        ['istio_response_bytes', 'DISTRIBUTION', 'histogram', 'http'],
        ['istio_request_messages_total', 'COUNTER', 'counter', 'grpc'],
        ['istio_response_messages_total', 'COUNTER', 'counter', 'grpc'],
        ['istio_tcp_sent_bytes_total', 'COUNTER', 'counter', 'tcp'],
        ['istio_tcp_received_bytes_total', 'COUNTER', 'counter', 'tcp'],
        ['istio_tcp_connections_opened_total', 'COUNTER', 'counter', 'tcp'],
        ['istio_tcp_connections_closed_total', 'COUNTER', 'counter', 'tcp'],
      ],
    );
    assert.throws(() => istioMetric('istio_request_duration_seconds'), RangeError);
  });

  test("HTTP labels: istio_stats.cc's all_tags_, in its order", () => {
    assert.deepEqual(
      [...ISTIO_LABEL_NAMES],
      [
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
      ],
    );
  });

  test('TCP labels: the same without response_code and grpc_response_status', () => {
    assert.equal(ISTIO_TCP_LABEL_NAMES.length, 23);
    assert.ok(!ISTIO_TCP_LABEL_NAMES.includes('response_code'));
    assert.ok(!ISTIO_TCP_LABEL_NAMES.includes('grpc_response_status'));
  });

  test("buckets: Envoy's defaults, for durations (ms) and sizes (bytes) alike", () => {
    assert.deepEqual(
      [...ENVOY_DEFAULT_HISTOGRAM_BUCKETS],
      [
        0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
        3600000,
      ],
    );
    assert.deepEqual(ISTIO_DURATION_BUCKETS_MS, ENVOY_DEFAULT_HISTOGRAM_BUCKETS);
    assert.deepEqual(ISTIO_SIZE_BUCKETS_BYTES, ENVOY_DEFAULT_HISTOGRAM_BUCKETS);
  });
});
