/**
 * Envoy's cluster statistics (cluster manager docs, "General" / "Circuit breakers" / "Outlier
 * detection" statistics) as an Istio sidecar's Prometheus endpoint names them. Istio's bootstrap
 * (istio/istio tools/packaging/common/envoy_bootstrap.json, `stats_config`) turns
 * `cluster.<name>.<stat>` into `envoy_cluster_<stat>{cluster_name="<name>"}` (tag regex
 * `^cluster\.((.+?(\..+?\.svc\.cluster\.local)?)\.)`), and `cluster.<name>.upstream_rq_2xx` into
 * `envoy_cluster_upstream_rq{response_code_class="2xx"}` (tag regex `_rq(_(\dxx))$`, which Istio
 * uses instead of Envoy's default `_rq_((\d))xx$`).
 *
 * A sidecar exports these for `outbound|...` clusters only when the pod's proxy stats matcher
 * includes them (Istio's default inclusion list has `cluster.xds-grpc` and a few others).
 */

/** The label every series carries: the Envoy cluster name, e.g. `outbound|9080|v1|reviews...`. */
export const CLUSTER_NAME_LABEL = 'cluster_name';
/** The status class label of `envoy_cluster_upstream_rq`: `1xx` .. `5xx`. */
export const RESPONSE_CODE_CLASS_LABEL = 'response_code_class';

export const ENVOY_CLUSTER_UPSTREAM_RQ_TOTAL = 'envoy_cluster_upstream_rq_total';
export const ENVOY_CLUSTER_UPSTREAM_RQ_COMPLETED = 'envoy_cluster_upstream_rq_completed';
export const ENVOY_CLUSTER_UPSTREAM_RQ = 'envoy_cluster_upstream_rq';
export const ENVOY_CLUSTER_UPSTREAM_RQ_RETRY = 'envoy_cluster_upstream_rq_retry';
export const ENVOY_CLUSTER_UPSTREAM_RQ_RETRY_SUCCESS = 'envoy_cluster_upstream_rq_retry_success';
export const ENVOY_CLUSTER_UPSTREAM_RQ_RETRY_OVERFLOW = 'envoy_cluster_upstream_rq_retry_overflow';
export const ENVOY_CLUSTER_UPSTREAM_RQ_PENDING_OVERFLOW = 'envoy_cluster_upstream_rq_pending_overflow';
export const ENVOY_CLUSTER_UPSTREAM_RQ_TIMEOUT = 'envoy_cluster_upstream_rq_timeout';
export const ENVOY_CLUSTER_UPSTREAM_RQ_ACTIVE = 'envoy_cluster_upstream_rq_active';
export const ENVOY_CLUSTER_UPSTREAM_RQ_PENDING_ACTIVE = 'envoy_cluster_upstream_rq_pending_active';
export const ENVOY_CLUSTER_UPSTREAM_CX_ACTIVE = 'envoy_cluster_upstream_cx_active';
export const ENVOY_CLUSTER_UPSTREAM_CX_TOTAL = 'envoy_cluster_upstream_cx_total';
export const ENVOY_CLUSTER_UPSTREAM_CX_CONNECT_FAIL = 'envoy_cluster_upstream_cx_connect_fail';
export const ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_CX_OPEN =
  'envoy_cluster_circuit_breakers_default_cx_open';
export const ENVOY_CLUSTER_MEMBERSHIP_HEALTHY = 'envoy_cluster_membership_healthy';
export const ENVOY_CLUSTER_MEMBERSHIP_TOTAL = 'envoy_cluster_membership_total';
export const ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_ACTIVE =
  'envoy_cluster_outlier_detection_ejections_active';
export const ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_ENFORCED_TOTAL =
  'envoy_cluster_outlier_detection_ejections_enforced_total';
export const ENVOY_CLUSTER_OUTLIER_DETECTION_EJECTIONS_OVERFLOW =
  'envoy_cluster_outlier_detection_ejections_overflow';
export const ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_OPEN =
  'envoy_cluster_circuit_breakers_default_rq_open';
export const ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_PENDING_OPEN =
  'envoy_cluster_circuit_breakers_default_rq_pending_open';
export const ENVOY_CLUSTER_CIRCUIT_BREAKERS_DEFAULT_RQ_RETRY_OPEN =
  'envoy_cluster_circuit_breakers_default_rq_retry_open';
