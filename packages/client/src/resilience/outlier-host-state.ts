import type { Host } from '../lb/host.ts';

/** Success and total requests over one interval (Envoy's SuccessRateAccumulatorBucket). */
export interface RequestBucket {
  success: number;
  total: number;
}

/**
 * What the detector keeps per host (Envoy's DetectorHostMonitorImpl). Mutable, owned by one
 * OutlierDetector; keyed by `host.key` so it survives a snapshot that replaces the Host object.
 */
export interface HostOutlierState {
  /** The Host object most recently handed to the detector for this key. */
  host: Host;
  consecutive5xx: number;
  consecutiveGatewayFailure: number;
  consecutiveLocalOriginFailure: number;
  /** External-origin results in the interval running now. */
  external: RequestBucket;
  /** Local-origin results in the interval running now (only fed when errors are split). */
  local: RequestBucket;
  /** External-origin results of the interval that just ended; the sweep reads these. */
  lastExternal: RequestBucket;
  lastLocal: RequestBucket;
  /** Envoy's FAILED_OUTLIER_CHECK health flag. */
  ejected: boolean;
  numEjections: number;
  /**
   * Envoy's `ejectTimeBackoff`: the multiplier of base_ejection_time. Up by one per ejection
   * while below (max + base) / base, down by one per interval spent un-ejected.
   */
  ejectionMultiplier: number;
  lastEjectionMs: number | undefined;
  lastUnejectionMs: number | undefined;
  jitterMs: number;
}

/** A fresh state: no failures, never ejected. */
export function createHostOutlierState(host: Host): HostOutlierState {
  return {
    host,
    consecutive5xx: 0,
    consecutiveGatewayFailure: 0,
    consecutiveLocalOriginFailure: 0,
    external: { success: 0, total: 0 },
    local: { success: 0, total: 0 },
    lastExternal: { success: 0, total: 0 },
    lastLocal: { success: 0, total: 0 },
    ejected: false,
    numEjections: 0,
    ejectionMultiplier: 0,
    lastEjectionMs: undefined,
    lastUnejectionMs: undefined,
    jitterMs: 0,
  };
}

/**
 * Ends the current interval: its counts become the ones the sweep reads and a new, empty
 * interval starts (Envoy swaps two buckets the same way).
 */
export function rollInterval(state: HostOutlierState): void {
  const ext = state.lastExternal;
  const loc = state.lastLocal;
  state.lastExternal = state.external;
  state.lastLocal = state.local;
  ext.success = 0;
  ext.total = 0;
  loc.success = 0;
  loc.total = 0;
  state.external = ext;
  state.local = loc;
}
