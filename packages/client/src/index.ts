/**
 * @dabba/client: the in-process data plane. `createMesh()` returns an undici Dispatcher that
 * routes, load-balances and forwards requests as an Envoy sidecar would.
 */

export { DabbaChannel } from '@dabba/core';
export {
  type CircuitBreakerLimitName,
  CircuitOpenError,
  type CircuitOpenState,
  ClientErrorCode,
  ClusterNotFoundError,
  ConfigError,
  type ConfigIssue,
  DabbaError,
  InvalidRequestError,
  MeshClosedError,
  MeshNotReadyError,
  NoHealthyUpstreamError,
  NoRouteError,
  OverflowError,
  ResponseFlag,
  UpstreamConnectError,
  UpstreamResetError,
  UpstreamTimeoutError,
} from './errors.ts';
export type {
  ExplainedCluster,
  ExplainedEndpoint,
  ExplainedPriority,
  ExplainRequest,
  Explanation,
} from './explain.ts';
export type { InboundOptions } from './inbound/inbound-options.ts';
export type { InboundListener, InboundRequest, InboundResponse } from './inbound/inbound-step.ts';
export {
  type ConfigAppliedMessage,
  type ConfigRejectedMessage,
  createMesh,
  Mesh,
  type MeshEvents,
} from './mesh.ts';
export type { RequestRecord } from './observe/request-record.ts';
export type { FailureBreakerOptions, MeshLogger, MeshOptions, MetricsOptions } from './options.ts';
export { type ServeMetricsOptions, serveMetrics } from './serve-metrics.ts';
export type { AccessLogOptions, AccessLogStream } from './telemetry/access-log/access-log-options.ts';
export type { MetricsRegistry } from './telemetry/istio-request-metrics.ts';
export {
  PEER_METADATA_HEADER,
  PEER_METADATA_ID_HEADER,
} from './telemetry/peer-metadata/peer-metadata-headers.ts';
export {
  contextWithTraceContext,
  type ExtractedTraceContext,
  extractTraceContext,
  type TraceContextFormat,
} from './telemetry/propagation/extract.ts';
export type { HeaderSource } from './telemetry/propagation/trace-headers.ts';
export type { PropagationFormat, SpanNaming, TracingOptions } from './telemetry/tracing/tracing-options.ts';
