/**
 * What an access log line is made of: the fields Envoy's command operators read, for one
 * logical request, read once when the request ends.
 */
export interface AccessLogEntry {
  /** `Date.now()` when the request was dispatched. */
  readonly startTime: number;
  readonly method: string;
  /** The path and query the caller sent (before any rewrite). */
  readonly pathAndQuery: string;
  readonly authority: string;
  /** `HTTP/1.1` or `HTTP/2` (the upstream connection's). */
  readonly protocol: string;
  /** The response code, 0 when there was none. */
  readonly status: number;
  /** Envoy's response flags, `-` when none. */
  readonly responseFlags: string;
  /** Envoy's `%RESPONSE_CODE_DETAILS%` (`via_upstream`, `route_not_found`...). */
  readonly responseCodeDetails: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Whole milliseconds from dispatch to the end. */
  readonly durationMs: number;
  /** Milliseconds from the first attempt to the forwarded response headers (Envoy's `x-envoy-upstream-service-time`). */
  readonly upstreamServiceTimeMs: number | undefined;
  readonly attempts: number;
  /** `address:port` of the last attempt's host. */
  readonly upstreamHost: string | undefined;
  readonly upstreamCluster: string | undefined;
  readonly routeName: string | undefined;
  /** A request header by lowercase name (`x-request-id` as sent upstream). */
  requestHeader(name: string): string | undefined;
  /** A response header by lowercase name. */
  responseHeader(name: string): string | undefined;
}
