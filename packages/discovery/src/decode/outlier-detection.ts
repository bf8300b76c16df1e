/**
 * Decoder for a Cluster's `outlier_detection` (cluster/v3/outlier_detection.proto): every field
 * resolved with the defaults of Envoy's DetectorConfig, and checked as Envoy checks it.
 */
import type { OutlierDetection } from '#xds/envoy/config/cluster/v3/outlier_detection_pb.js';
import type { OutlierConfig } from '../model/cluster.ts';
import type { IssueSink } from './decoded.ts';
import { durationMs } from './duration.ts';

/**
 * Envoy's defaults (DetectorConfig DEFAULT_* constants; the same values are stated field by field
 * in outlier_detection.proto). `maxEjectionTimeMs` here is the plain default; a base ejection
 * time above 300 s raises it, see {@link compileOutlierDetection}.
 */
export const OUTLIER_DEFAULTS: OutlierConfig = Object.freeze({
  intervalMs: 10_000,
  baseEjectionTimeMs: 30_000,
  maxEjectionTimeMs: 300_000,
  maxEjectionTimeJitterMs: 0,
  maxEjectionPercent: 10,
  alwaysEjectOneHost: false,
  consecutive5xx: 5,
  enforcingConsecutive5xx: 100,
  consecutiveGatewayFailure: 5,
  // Gateway failures are counted but not enforced unless configured: 502/503/504 still reach
  // the 5xx detector, which is enforced.
  enforcingConsecutiveGatewayFailure: 0,
  splitExternalLocalOriginErrors: false,
  consecutiveLocalOriginFailure: 5,
  enforcingConsecutiveLocalOriginFailure: 100,
  // Envoy enforces success-rate ejection by default; Istio's translation sets it to 0, so
  // Istio-driven clusters never eject on success rate.
  enforcingSuccessRate: 100,
  enforcingLocalOriginSuccessRate: 100,
  successRateMinimumHosts: 5,
  successRateRequestVolume: 100,
  successRateStdevFactor: 1900,
  failurePercentageThreshold: 85,
  enforcingFailurePercentage: 0,
  enforcingFailurePercentageLocalOrigin: 0,
  failurePercentageMinimumHosts: 5,
  failurePercentageRequestVolume: 50,
});

const PERCENT_FIELDS = [
  ['maxEjectionPercent', 'max_ejection_percent'],
  ['enforcingConsecutive5xx', 'enforcing_consecutive_5xx'],
  ['enforcingSuccessRate', 'enforcing_success_rate'],
  ['enforcingConsecutiveGatewayFailure', 'enforcing_consecutive_gateway_failure'],
  ['enforcingConsecutiveLocalOriginFailure', 'enforcing_consecutive_local_origin_failure'],
  ['enforcingLocalOriginSuccessRate', 'enforcing_local_origin_success_rate'],
  ['failurePercentageThreshold', 'failure_percentage_threshold'],
  ['enforcingFailurePercentage', 'enforcing_failure_percentage'],
  ['enforcingFailurePercentageLocalOrigin', 'enforcing_failure_percentage_local_origin'],
] as const;

const POSITIVE_DURATIONS = [
  ['interval', 'interval'],
  ['baseEjectionTime', 'base_ejection_time'],
  ['maxEjectionTime', 'max_ejection_time'],
] as const;

/**
 * Resolves a Cluster's `outlier_detection` into an {@link OutlierConfig} with Envoy's defaults.
 * Returns `undefined` when the cluster has none: Envoy then creates no detector and never ejects.
 * Records in `sink` every field Envoy would reject: the proto's validation rules (percentages
 * <= 100, durations > 0) and DetectorImpl::create's check that max_ejection_time is not below
 * base_ejection_time.
 */
export function decodeOutlierDetection(
  xds: OutlierDetection | undefined,
  sink: IssueSink,
): OutlierConfig | undefined {
  if (xds === undefined) return undefined;
  const issue = (field: string, message: string) => sink.add(`outlier_detection.${field}`, message);
  for (const [key, field] of PERCENT_FIELDS) {
    const value = xds[key];
    if (value !== undefined && value > 100) issue(field, `must be at most 100, got ${value}`);
  }
  for (const [key, field] of POSITIVE_DURATIONS) {
    const value = xds[key];
    if (value !== undefined && value.seconds <= 0n && (value.seconds < 0n || value.nanos <= 0)) {
      issue(field, 'must be greater than 0s');
    }
  }
  const jitter = xds.maxEjectionTimeJitter;
  if (jitter !== undefined && (jitter.seconds < 0n || jitter.nanos < 0)) {
    issue('max_ejection_time_jitter', 'must not be negative');
  }

  const d = OUTLIER_DEFAULTS;
  const baseEjectionTimeMs = xds.baseEjectionTime ? durationMs(xds.baseEjectionTime) : d.baseEjectionTimeMs;
  const maxEjectionTimeMs = xds.maxEjectionTime
    ? durationMs(xds.maxEjectionTime)
    : Math.max(d.maxEjectionTimeMs, baseEjectionTimeMs);
  if (maxEjectionTimeMs < baseEjectionTimeMs) {
    issue('max_ejection_time', 'cannot be smaller than base_ejection_time');
  }

  return Object.freeze({
    intervalMs: xds.interval ? durationMs(xds.interval) : d.intervalMs,
    baseEjectionTimeMs,
    maxEjectionTimeMs,
    maxEjectionTimeJitterMs: jitter ? durationMs(jitter) : d.maxEjectionTimeJitterMs,
    maxEjectionPercent: Math.min(100, xds.maxEjectionPercent ?? d.maxEjectionPercent),
    alwaysEjectOneHost: xds.alwaysEjectOneHost ?? d.alwaysEjectOneHost,
    consecutive5xx: xds.consecutive5xx ?? d.consecutive5xx,
    enforcingConsecutive5xx: xds.enforcingConsecutive5xx ?? d.enforcingConsecutive5xx,
    consecutiveGatewayFailure: xds.consecutiveGatewayFailure ?? d.consecutiveGatewayFailure,
    enforcingConsecutiveGatewayFailure:
      xds.enforcingConsecutiveGatewayFailure ?? d.enforcingConsecutiveGatewayFailure,
    splitExternalLocalOriginErrors: xds.splitExternalLocalOriginErrors,
    consecutiveLocalOriginFailure: xds.consecutiveLocalOriginFailure ?? d.consecutiveLocalOriginFailure,
    enforcingConsecutiveLocalOriginFailure:
      xds.enforcingConsecutiveLocalOriginFailure ?? d.enforcingConsecutiveLocalOriginFailure,
    enforcingSuccessRate: xds.enforcingSuccessRate ?? d.enforcingSuccessRate,
    enforcingLocalOriginSuccessRate: xds.enforcingLocalOriginSuccessRate ?? d.enforcingLocalOriginSuccessRate,
    successRateMinimumHosts: xds.successRateMinimumHosts ?? d.successRateMinimumHosts,
    successRateRequestVolume: xds.successRateRequestVolume ?? d.successRateRequestVolume,
    successRateStdevFactor: xds.successRateStdevFactor ?? d.successRateStdevFactor,
    failurePercentageThreshold: xds.failurePercentageThreshold ?? d.failurePercentageThreshold,
    enforcingFailurePercentage: xds.enforcingFailurePercentage ?? d.enforcingFailurePercentage,
    enforcingFailurePercentageLocalOrigin:
      xds.enforcingFailurePercentageLocalOrigin ?? d.enforcingFailurePercentageLocalOrigin,
    failurePercentageMinimumHosts: xds.failurePercentageMinimumHosts ?? d.failurePercentageMinimumHosts,
    failurePercentageRequestVolume: xds.failurePercentageRequestVolume ?? d.failurePercentageRequestVolume,
  });
}
