import type { ConfigIssue } from '../errors.ts';
import { BucketCounts } from './bucket-counts.ts';
import {
  ENVOY_RESPONSE_FLAGS,
  ISTIO_CONNECTION_SECURITY_POLICIES,
  ISTIO_LABEL_NAMES,
  ISTIO_REQUEST_PROTOCOLS,
  type IstioLabelName,
  NO_RESPONSE_FLAGS,
} from './istio-metric-names.ts';

/**
 * The labels that come from configuration: the two workloads (this one from its own metadata, the
 * peer from the cluster's Istio metadata), the protocol and the security policy.
 */
export type IstioPeerLabels = Readonly<
  Record<Exclude<IstioLabelName, 'reporter' | IstioResponseLabelName>, string>
>;

/** The labels that describe the response; each takes values from a closed set. */
export type IstioResponseLabelName = 'response_code' | 'response_flags' | 'grpc_response_status';

/** Every label of one request series except `reporter`, which the recorder fixes. */
export type IstioRequestLabels = IstioPeerLabels & Readonly<Record<IstioResponseLabelName, string>>;

/**
 * One interned label combination and its counts: the handle the request path records into.
 * Created only by `IstioRequestMetrics.labelSet()`, once per distinct combination.
 */
export class IstioLabelSet {
  /** All 25 labels, `reporter` included, in {@link ISTIO_LABEL_NAMES} order. Frozen. */
  readonly labels: Readonly<Record<IstioLabelName, string>>;
  /** `istio_requests_total` for this series. */
  requests = 0;
  readonly duration: BucketCounts;
  readonly requestBytes: BucketCounts;
  readonly responseBytes: BucketCounts;

  constructor(
    labels: Readonly<Record<IstioLabelName, string>>,
    durationBounds: Float64Array,
    sizeBounds: Float64Array,
  ) {
    this.labels = labels;
    this.duration = new BucketCounts(durationBounds);
    this.requestBytes = new BucketCounts(sizeBounds);
    this.responseBytes = new BucketCounts(sizeBounds);
  }
}

// 0..16, or Envoy's InvalidCode (-1) for a grpc-status outside them (grpc-response-status.ts).
const GRPC_STATUS = /^(?:[0-9]|1[0-6]|-1)$/;
const RESPONSE_CODE = /^(?:0|[1-9][0-9]{2})$/;
const FLAGS = new Set<string>(ENVOY_RESPONSE_FLAGS);

/** Whether `value` is a `response_code` Istio can write: `0` (no response) or a 3-digit status code. */
export function isIstioResponseCode(value: string): boolean {
  // RFC 9110 status-code = 3DIGIT; istio_stats.cc writes responseCode().value_or(0).
  return RESPONSE_CODE.test(value);
}

/** Whether `value` is `-` or a comma-separated list of distinct Envoy short response flags. */
export function isEnvoyResponseFlags(value: string): boolean {
  if (value === NO_RESPONSE_FLAGS) return true;
  const parts = value.split(',');
  return parts.every((p) => FLAGS.has(p)) && new Set(parts).size === parts.length;
}

/**
 * Checks the closed-set labels of a combination and returns every problem. Values of the other
 * labels come from configuration and are taken as they are; an empty one is reported because Istio
 * writes `unknown` instead.
 */
export function checkIstioRequestLabels(labels: IstioRequestLabels, source: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const issue = (path: string, message: string) => issues.push({ source, path, message });
  for (const name of ISTIO_LABEL_NAMES) {
    if (name === 'reporter') continue;
    const value = (labels as Readonly<Record<string, unknown>>)[name];
    if (typeof value !== 'string') {
      issue(name, 'must be a string');
      continue;
    }
    if (value === '' && name !== 'grpc_response_status')
      issue(name, "must not be empty (Istio writes 'unknown')");
  }
  const closed: [IstioLabelName, (v: string) => boolean, string][] = [
    [
      'request_protocol',
      (v) => (ISTIO_REQUEST_PROTOCOLS as readonly string[]).includes(v),
      'http, grpc or tcp',
    ],
    [
      'connection_security_policy',
      (v) => (ISTIO_CONNECTION_SECURITY_POLICIES as readonly string[]).includes(v),
      'mutual_tls, none or unknown',
    ],
    ['response_code', isIstioResponseCode, "'0' or a 3-digit status code"],
    ['response_flags', isEnvoyResponseFlags, "'-' or comma-separated Envoy response flags"],
    [
      'grpc_response_status',
      (v) => v === '' || GRPC_STATUS.test(v),
      "'' or a gRPC status code 0-16 (or -1, invalid)",
    ],
  ];
  for (const [name, ok, expected] of closed) {
    const value = (labels as Readonly<Record<string, unknown>>)[name];
    if (typeof value === 'string' && value !== '' && !ok(value)) {
      issue(name, `must be ${expected}, got ${JSON.stringify(value)}`);
    }
  }
  return issues;
}
