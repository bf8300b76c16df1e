/**
 * The two interval detectors of Envoy's outlier detection, success rate and failure percentage,
 * as pure functions of one interval's per-host request counts
 * (DetectorImpl::processSuccessRateEjections and successRateEjectionThreshold in
 * source/common/upstream/outlier_detection_impl.cc).
 */

/** One host's counts over the interval that just ended. Ejected hosts are left out by the caller. */
export interface IntervalSample<K> {
  readonly key: K;
  /** Requests that succeeded. */
  readonly success: number;
  /** Requests recorded; a host with 0 is skipped, as Envoy skips an empty bucket. */
  readonly total: number;
}

/** The thresholds one sweep uses; a subset of OutlierConfig. */
export interface StatisticalThresholds {
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  /** In thousandths: 1900 means mean - 1.9 x stdev. */
  readonly successRateStdevFactor: number;
  readonly failurePercentageThreshold: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
}

/** What one sweep found, in the order Envoy asks for ejection: success rate first. */
export interface StatisticalOutliers<K> {
  /** Hosts whose success rate is below the threshold. */
  readonly successRate: readonly K[];
  /** Hosts whose failure percentage is at or above the threshold. */
  readonly failurePercentage: readonly K[];
  /** Mean success rate (percent) of the hosts with enough volume, or -1 when not computed. */
  readonly successRateAverage: number;
  /** `mean - stdev * factor / 1000`, or -1 when not computed (Envoy's `/clusters` shows -1 too). */
  readonly successRateEjectionThreshold: number;
}

/**
 * Envoy's success-rate ejection threshold: `mean - factor * stdev`, with the population standard
 * deviation (variance divided by n, not n - 1). Rates are percentages. Envoy's own example:
 * {50, 100, 100, 100, 100} with factor 1.9 has mean 90, stdev 20, threshold 52.
 */
export function successRateEjectionThreshold(
  rates: readonly number[],
  stdevFactor: number,
): { readonly mean: number; readonly threshold: number } {
  let sum = 0;
  for (const r of rates) sum += r;
  const mean = sum / rates.length;
  let variance = 0;
  for (const r of rates) variance += (r - mean) ** 2;
  variance /= rates.length;
  return { mean, threshold: mean - stdevFactor * Math.sqrt(variance) };
}

/**
 * Runs both detectors over one interval. `hostCount` is every host the detector tracks, ejected
 * or not: Envoy skips the sweep when the cluster is smaller than both minimums, then counts only
 * hosts with enough volume against each minimum.
 */
export function findStatisticalOutliers<K>(
  samples: readonly IntervalSample<K>[],
  hostCount: number,
  t: StatisticalThresholds,
): StatisticalOutliers<K> {
  const none = {
    successRate: [],
    failurePercentage: [],
    successRateAverage: -1,
    successRateEjectionThreshold: -1,
  };
  if (hostCount < t.successRateMinimumHosts && hostCount < t.failurePercentageMinimumHosts) return none;
  const srKeys: K[] = [];
  const srRates: number[] = [];
  const fpKeys: K[] = [];
  const fpRates: number[] = [];
  for (const s of samples) {
    if (s.total === 0) continue;
    const rate = (s.success * 100) / s.total;
    if (s.total >= t.successRateRequestVolume) {
      srKeys.push(s.key);
      srRates.push(rate);
    }
    if (s.total >= t.failurePercentageRequestVolume) {
      fpKeys.push(s.key);
      fpRates.push(rate);
    }
  }
  const successRate: K[] = [];
  let successRateAverage = -1;
  let threshold = -1;
  if (srKeys.length > 0 && srKeys.length >= t.successRateMinimumHosts) {
    const r = successRateEjectionThreshold(srRates, t.successRateStdevFactor / 1000);
    successRateAverage = r.mean;
    threshold = r.threshold;
    for (let i = 0; i < srKeys.length; i++) if (srRates[i]! < threshold) successRate.push(srKeys[i]!);
  }
  const failurePercentage: K[] = [];
  if (fpKeys.length > 0 && fpKeys.length >= t.failurePercentageMinimumHosts) {
    for (let i = 0; i < fpKeys.length; i++) {
      if (100 - fpRates[i]! >= t.failurePercentageThreshold) failurePercentage.push(fpKeys[i]!);
    }
  }
  return { successRate, failurePercentage, successRateAverage, successRateEjectionThreshold: threshold };
}
