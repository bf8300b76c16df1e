/**
 * Envoy's response flags (access-log docs, "Command operators", `%RESPONSE_FLAGS%`), by the names
 * of `StreamInfo::CoreResponseFlag` (envoy/stream_info/stream_info.h), with their short strings.
 * A request's flags are written as a comma-separated list in Envoy's order
 * (`ResponseFlagUtils::CORE_RESPONSE_FLAGS`, the order of {@link ENVOY_RESPONSE_FLAG_ORDER}), or
 * `-` when it has none.
 */
export const ResponseFlag = {
  FAILED_LOCAL_HEALTH_CHECK: 'LH',
  NO_HEALTHY_UPSTREAM: 'UH',
  UPSTREAM_REQUEST_TIMEOUT: 'UT',
  LOCAL_RESET: 'LR',
  UPSTREAM_REMOTE_RESET: 'UR',
  UPSTREAM_CONNECTION_FAILURE: 'UF',
  UPSTREAM_CONNECTION_TERMINATION: 'UC',
  UPSTREAM_OVERFLOW: 'UO',
  NO_ROUTE_FOUND: 'NR',
  DELAY_INJECTED: 'DI',
  FAULT_INJECTED: 'FI',
  RATE_LIMITED: 'RL',
  UNAUTHORIZED_EXTERNAL_SERVICE: 'UAEX',
  RATE_LIMIT_SERVICE_ERROR: 'RLSE',
  DOWNSTREAM_CONNECTION_TERMINATION: 'DC',
  UPSTREAM_RETRY_LIMIT_EXCEEDED: 'URX',
  STREAM_IDLE_TIMEOUT: 'SI',
  INVALID_ENVOY_REQUEST_HEADERS: 'IH',
  DOWNSTREAM_PROTOCOL_ERROR: 'DPE',
  UPSTREAM_MAX_STREAM_DURATION_REACHED: 'UMSDR',
  RESPONSE_FROM_CACHE_FILTER: 'RFCF',
  NO_FILTER_CONFIG_FOUND: 'NFCF',
  DURATION_TIMEOUT: 'DT',
  UPSTREAM_PROTOCOL_ERROR: 'UPE',
  NO_CLUSTER_FOUND: 'NC',
  OVERLOAD_MANAGER: 'OM',
  DNS_RESOLUTION_FAILURE: 'DF',
  DROP_OVERLOAD: 'DO',
  DOWNSTREAM_REMOTE_RESET: 'DR',
} as const;

export type ResponseFlagValue = (typeof ResponseFlag)[keyof typeof ResponseFlag];

/** The short flags in the order Envoy writes them. */
export const ENVOY_RESPONSE_FLAG_ORDER: readonly ResponseFlagValue[] = Object.freeze(
  Object.values(ResponseFlag),
);

/** What Envoy writes for a request with no flag. */
export const NO_RESPONSE_FLAGS = '-';
