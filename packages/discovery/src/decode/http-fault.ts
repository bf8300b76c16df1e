import type { Any } from '@bufbuild/protobuf/wkt';
import type { FaultDelay } from '#xds/envoy/extensions/filters/common/fault/v3/fault_pb.js';
import {
  type FaultAbort,
  type HTTPFault,
  HTTPFaultSchema,
} from '#xds/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import type { FaultAbortModel, FaultDelayModel, HttpFaultModel } from '../model/http-fault.ts';
import { decodeAny } from '../xds/codec.ts';
import type { IssueSink } from './decoded.ts';
import { durationMs } from './duration.ts';
import { fractionalPercentFromXds } from './fractional-percent.ts';

/** The filter name Envoy (and istiod) key the fault filter's per-route config by. */
const FAULT_FILTER = 'envoy.filters.http.fault';

/**
 * The fault filter's entry of a route's or virtual host's `typed_per_filter_config`, decoded;
 * undefined when there is none. Request filters the data plane does not evaluate (`headers`,
 * `max_active_faults`) are refused when the fault can fire, never ignored: ignoring one would
 * fault more requests than the operator asked for.
 *
 * @param path field path of the message holding `typed_per_filter_config`.
 */
export function decodeFaultConfig(
  typedPerFilterConfig: { readonly [name: string]: Any },
  path: string,
  sink: IssueSink,
): HttpFaultModel | undefined {
  const any = typedPerFilterConfig[FAULT_FILTER];
  if (any === undefined) return undefined;
  const at = `${path}.typedPerFilterConfig["${FAULT_FILTER}"]`;
  let fault: HTTPFault;
  try {
    fault = decodeAny(any, HTTPFaultSchema);
  } catch (err) {
    sink.add(at, (err as Error).message);
    return undefined;
  }
  const delay = delayOf(fault.delay);
  const abort = abortOf(fault.abort);
  // A fault with neither can never fire, so what would restrict it does not matter.
  if (delay !== undefined || abort !== undefined) {
    if (fault.headers.length > 0) sink.add(`${at}.headers`, 'not supported by Dabba');
    if (fault.maxActiveFaults !== undefined) sink.add(`${at}.maxActiveFaults`, 'not supported by Dabba');
  }
  return {
    delay,
    abort,
    upstreamCluster: fault.upstreamCluster,
    downstreamNodes: [...fault.downstreamNodes],
  };
}

function delayOf(d: FaultDelay | undefined): FaultDelayModel | undefined {
  const spec = d?.faultDelaySecifier;
  if (d === undefined || spec === undefined) return undefined;
  const percentage = d.percentage === undefined ? undefined : fractionalPercentFromXds(d.percentage);
  switch (spec.case) {
    case 'fixedDelay':
      return { kind: 'fixed', fixedDelayMs: durationMs(spec.value), percentage };
    case 'headerDelay':
      return { kind: 'header', percentage };
    case undefined:
      return undefined;
  }
}

function abortOf(a: FaultAbort | undefined): FaultAbortModel | undefined {
  const type = a?.errorType;
  if (a === undefined || type === undefined) return undefined;
  const percentage = a.percentage === undefined ? undefined : fractionalPercentFromXds(a.percentage);
  switch (type.case) {
    case 'httpStatus':
      return { kind: 'http', httpStatus: type.value, percentage };
    case 'grpcStatus':
      return { kind: 'grpc', grpcStatus: type.value, percentage };
    case 'headerAbort':
      return { kind: 'header', percentage };
    case undefined:
      return undefined;
  }
}
