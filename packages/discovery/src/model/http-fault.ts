import type { FractionalPercent } from './fractional-percent.ts';

/** extensions/filters/common/fault/v3 FaultDelay with its delay type set. */
export type FaultDelayModel =
  | {
      readonly kind: 'fixed';
      /** `fixed_delay` in milliseconds. */
      readonly fixedDelayMs: number;
      readonly percentage: FractionalPercent | undefined;
    }
  /** `header_delay`: the request's `x-envoy-fault-delay-request` header says how long. */
  | { readonly kind: 'header'; readonly percentage: FractionalPercent | undefined };

/** extensions/filters/http/fault/v3 FaultAbort with its error type set. */
export type FaultAbortModel =
  | { readonly kind: 'http'; readonly httpStatus: number; readonly percentage: FractionalPercent | undefined }
  | { readonly kind: 'grpc'; readonly grpcStatus: number; readonly percentage: FractionalPercent | undefined }
  /** `header_abort`: the request's `x-envoy-fault-abort-*` headers give the status. */
  | { readonly kind: 'header'; readonly percentage: FractionalPercent | undefined };

/**
 * The HTTPFault of a `typed_per_filter_config["envoy.filters.http.fault"]`, decoded. A delay or
 * abort whose type is unset is `undefined`, as Envoy's filter treats it. `headers` and
 * `max_active_faults` are refused by the decoder when the fault can fire, so they have no field.
 */
export interface HttpFaultModel {
  readonly delay: FaultDelayModel | undefined;
  readonly abort: FaultAbortModel | undefined;
  /** Fault only requests routed to this cluster; `''` for any. */
  readonly upstreamCluster: string;
  /** Fault only requests from these downstream nodes; empty for any. */
  readonly downstreamNodes: readonly string[];
}
