/**
 * VirtualService `fault` to Envoy's per-route fault filter configuration, as istiod builds it
 * (pilot/pkg/networking/core/route/route.go TranslateFault, translatePercentToFractionalPercent,
 * translateIntegerToFractionalPercent), and the checks istiod's validation webhook applies to it
 * (pkg/config/validation validateHTTPFaultInjection*).
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { type Any, anyPack } from '@bufbuild/protobuf/wkt';
import type { FaultDelaySchema } from '#xds/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import {
  type FaultAbortSchema,
  type HTTPFault,
  HTTPFaultSchema,
} from '#xds/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import {
  FractionalPercent_DenominatorType,
  type FractionalPercentSchema,
} from '#xds/envoy/type/v3/percent_pb.js';
import { durationFromMs } from './proto-values.ts';
import type { IstioHttpRoute } from './virtual-service-schema.ts';

/** The filter name istiod keys the per-route fault config by (Istio wellknown.Fault). */
export const FAULT_FILTER_NAME = 'envoy.filters.http.fault';

/** A VirtualService http route's `fault` after schema validation (durations in milliseconds). */
export type IstioFault = NonNullable<IstioHttpRoute['fault']>;

/** A problem istiod's validation webhook would reject, relative to the `fault` field. */
export interface FaultProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * gRPC status names istiod accepts for `abort.grpcStatus`, with their codes (istio
 * pkg/util/grpc/codes.go SupportedGRPCStatus, which follows grpc-go's codes).
 */
export const GRPC_STATUS_CODES: Readonly<Record<string, number>> = Object.freeze({
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
});

type FractionInit = MessageInitShape<typeof FractionalPercentSchema>;

/**
 * Istio translatePercentToFractionalPercent: `uint32(p.Value * 10000)` per million. Go's
 * float-to-uint conversion truncates, and so does this (0.29% becomes 2899, as in istiod).
 */
export function percentToFraction(value: number): FractionInit {
  return { numerator: Math.trunc(value * 10_000), denominator: FractionalPercent_DenominatorType.MILLION };
}

/**
 * Problems istiod's webhook reports for a fault: neither delay nor abort; exponentialDelay and
 * http2Error (both "not supported yet"); a gRPC status name istiod does not know.
 */
export function validateFault(fault: IstioFault): FaultProblem[] {
  const problems: FaultProblem[] = [];
  if (!fault.delay && !fault.abort)
    problems.push({ path: [], message: 'HTTP fault injection must have an abort and/or a delay' });
  if (fault.delay?.exponentialDelay !== undefined)
    problems.push({ path: ['delay', 'exponentialDelay'], message: 'exponentialDelay not supported yet' });
  if (fault.abort?.http2Error !== undefined)
    problems.push({
      path: ['abort', 'http2Error'],
      message: 'HTTP/2 abort fault injection not supported yet',
    });
  const grpc = fault.abort?.grpcStatus;
  if (grpc !== undefined && GRPC_STATUS_CODES[grpc] === undefined)
    problems.push({
      path: ['abort', 'grpcStatus'],
      message: `gRPC status "${grpc}" is not supported; use a name such as NOT_FOUND or UNAVAILABLE`,
    });
  return problems;
}

/**
 * Istio TranslateFault. A delay without a fixed delay, and an abort without an HTTP or gRPC status,
 * are dropped (istiod logs and drops them); returns undefined when nothing is left, as istiod does.
 *
 * - delay percentage: `percentage` per million, else the deprecated integer `percent` per hundred
 *   (0 when neither is set, so no request is delayed);
 * - abort percentage: `percentage` per million, else none (Envoy reads an absent percentage as 0).
 */
export function translateFault(fault: IstioFault): HTTPFault | undefined {
  let delay: MessageInitShape<typeof FaultDelaySchema> | undefined;
  const d = fault.delay;
  if (d && d.fixedDelay !== undefined) {
    delay = {
      percentage:
        d.percentage !== undefined
          ? percentToFraction(d.percentage.value)
          : { numerator: d.percent ?? 0, denominator: FractionalPercent_DenominatorType.HUNDRED },
      faultDelaySecifier: { case: 'fixedDelay', value: durationFromMs(d.fixedDelay) },
    };
  }
  let abort: MessageInitShape<typeof FaultAbortSchema> | undefined;
  const a = fault.abort;
  if (a) {
    const percentage = a.percentage !== undefined ? percentToFraction(a.percentage.value) : undefined;
    if (a.httpStatus !== undefined) {
      abort = { percentage, errorType: { case: 'httpStatus', value: a.httpStatus } };
    } else if (a.grpcStatus !== undefined) {
      // An unknown name is a validation issue; istiod's map lookup would give 0 (OK) here.
      abort = { percentage, errorType: { case: 'grpcStatus', value: GRPC_STATUS_CODES[a.grpcStatus] ?? 0 } };
    }
  }
  if (!delay && !abort) return undefined;
  return create(HTTPFaultSchema, { delay, abort });
}

/**
 * The route's `typed_per_filter_config` entry for a fault. When {@link translateFault} returns
 * nothing istiod still sets the entry, holding an empty HTTPFault (it packs a nil message), and so
 * does this: Envoy then injects no fault on the route.
 */
export function faultPerFilterConfig(fault: IstioFault): Record<string, Any> {
  const message = translateFault(fault) ?? create(HTTPFaultSchema);
  return { [FAULT_FILTER_NAME]: anyPack(HTTPFaultSchema, message) };
}
