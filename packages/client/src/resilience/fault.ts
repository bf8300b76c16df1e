/**
 * Envoy's HTTP fault filter (envoy.filters.http.fault) as a pure policy: compile a route's
 * `typed_per_filter_config["envoy.filters.http.fault"]` once, then decide per request whether to
 * delay it and whether to abort it. Semantics of source/extensions/filters/http/fault/
 * fault_filter.cc and filters/common/fault/fault_config.cc:
 *
 * - delay and abort are independent draws; a delay runs first, and the abort (if drawn) is
 *   answered when the delay ends;
 * - each percentage is a FractionalPercent, enabled when `random % denominator < numerator`;
 *   an absent percentage is 0 (never);
 * - a delay of 0 ms is no delay;
 * - header-controlled faults (`x-envoy-fault-*` request headers) act only when the config sets
 *   `header_delay` / `header_abort`; the percentage headers can only lower the configured one;
 * - `upstream_cluster`, `downstream_nodes` and `headers` restrict which requests can be faulted.
 */
import type { FractionalPercent, FractionalPercentDenominator, HttpFaultModel } from '@dabba/discovery';
import { type RandomSource, randomUint32 } from '../lb/random-source.ts';

/** Request headers Envoy reads for header-controlled faults (filters/common/fault HeaderNames). */
export const FAULT_HEADERS = Object.freeze({
  delayRequest: 'x-envoy-fault-delay-request',
  delayRequestPercentage: 'x-envoy-fault-delay-request-percentage',
  abortRequest: 'x-envoy-fault-abort-request',
  abortGrpcRequest: 'x-envoy-fault-abort-grpc-request',
  abortRequestPercentage: 'x-envoy-fault-abort-request-percentage',
});

/** Envoy response flags the fault filter sets. */
export const FaultResponseFlag = Object.freeze({
  /** A delay was injected (`DI`). */
  DELAY_INJECTED: 'DI',
  /** The request was aborted by the fault filter (`FI`). */
  FAULT_INJECTED: 'FI',
});

/** A FractionalPercent as two integers: enabled when `random % denominator < numerator`. */
export interface Fraction {
  readonly numerator: number;
  readonly denominator: number;
}

/** The compiled delay of a fault. */
export interface CompiledDelay {
  /** fixed_delay in whole milliseconds (Envoy truncates), or undefined for `header_delay`. */
  readonly fixedDelayMs: number | undefined;
  readonly percentage: Fraction;
}

/** The compiled abort of a fault: exactly one of the three error types. */
export interface CompiledAbort {
  readonly httpStatus: number | undefined;
  readonly grpcStatus: number | undefined;
  /** `header_abort`: the status comes from the request headers. */
  readonly fromHeaders: boolean;
  readonly percentage: Fraction;
}

/** A route's fault configuration, compiled once per snapshot. */
export interface CompiledFault {
  readonly delay: CompiledDelay | undefined;
  readonly abort: CompiledAbort | undefined;
  /** Fault only requests routed to this cluster (empty: any). */
  readonly upstreamCluster: string;
  /** Fault only requests whose x-envoy-downstream-service-node is listed (empty: any). */
  readonly downstreamNodes: readonly string[];
}

/** What to do to one request. Both absent: leave it alone. */
export interface FaultDecision {
  /** Hold the request this long before anything else (response flag `DI`). */
  readonly delayMs?: number;
  /** Answer locally instead of forwarding, after the delay if any (response flag `FI`). */
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: number };
}

/** Reads a request header (lowercase name); the first value when there are several. */
export type FaultHeaderLookup = (name: string) => string | undefined;

const DENOMINATORS: Readonly<Record<FractionalPercentDenominator, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
};

/** A FractionalPercent as integers; an absent one is 0%, an absent denominator HUNDRED. */
export function fractionOf(p: FractionalPercent | undefined): Fraction {
  return { numerator: p?.numerator ?? 0, denominator: DENOMINATORS[p?.denominator ?? 'HUNDRED'] };
}

/**
 * Compiles a decoded `envoy.filters.http.fault` per-route config. Returns undefined when there
 * is none, or when it has neither delay nor abort (then no fault can fire).
 */
export function compileFault(fault: HttpFaultModel | undefined): CompiledFault | undefined {
  if (!fault) return undefined;
  const d = fault.delay;
  const delay: CompiledDelay | undefined =
    d === undefined
      ? undefined
      : Object.freeze({
          fixedDelayMs: d.kind === 'fixed' ? d.fixedDelayMs : undefined,
          percentage: fractionOf(d.percentage),
        });
  const a = fault.abort;
  const abort: CompiledAbort | undefined =
    a === undefined
      ? undefined
      : Object.freeze({
          httpStatus: a.kind === 'http' ? a.httpStatus : undefined,
          grpcStatus: a.kind === 'grpc' ? a.grpcStatus : undefined,
          fromHeaders: a.kind === 'header',
          percentage: fractionOf(a.percentage),
        });
  if (!delay && !abort) return undefined;
  return Object.freeze({
    delay,
    abort,
    upstreamCluster: fault.upstreamCluster,
    downstreamNodes: fault.downstreamNodes,
  });
}

/** Envoy reads these headers with absl::SimpleAtoi: an unsigned decimal integer. */
function headerInt(headers: FaultHeaderLookup | undefined, name: string): number | undefined {
  const v = headers?.(name)?.trim();
  if (v === undefined || !/^\+?\d+$/.test(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** HeaderPercentageProvider: the header may only lower the configured numerator. */
function headerFraction(base: Fraction, headers: FaultHeaderLookup | undefined, name: string): Fraction {
  const n = headerInt(headers, name);
  return n === undefined ? base : { numerator: Math.min(n, base.numerator), denominator: base.denominator };
}

function enabled(p: Fraction, random: RandomSource): boolean {
  // Envoy's ProtobufPercentHelper::evaluateFractionalPercent on a fresh random value.
  return p.numerator > 0 && randomUint32(random) % p.denominator < p.numerator;
}

/**
 * Decides the fault for one request that already passed the fault's request filters
 * (upstream cluster, downstream nodes: see {@link CompiledFault}). Draws the delay first and
 * the abort second, each independently, as Envoy does (the abort draw happens when the delay
 * ends; the order of draws is the same).
 *
 * `headers` is needed only for `header_delay` / `header_abort` configs; without it, or when the
 * header is absent or not a number, a header-controlled fault does not fire.
 */
export function decideFault(
  fault: CompiledFault | undefined,
  random: RandomSource,
  headers?: FaultHeaderLookup,
): FaultDecision {
  if (!fault) return {};
  let delayMs: number | undefined;
  const d = fault.delay;
  if (d) {
    const fromHeaders = d.fixedDelayMs === undefined;
    const p = fromHeaders
      ? headerFraction(d.percentage, headers, FAULT_HEADERS.delayRequestPercentage)
      : d.percentage;
    if (enabled(p, random)) {
      const ms = fromHeaders ? headerInt(headers, FAULT_HEADERS.delayRequest) : d.fixedDelayMs;
      if (ms !== undefined && ms > 0) delayMs = ms;
    }
  }
  let abort: FaultDecision['abort'];
  const a = fault.abort;
  if (a) {
    const p = a.fromHeaders
      ? headerFraction(a.percentage, headers, FAULT_HEADERS.abortRequestPercentage)
      : a.percentage;
    if (enabled(p, random)) abort = abortStatus(a, headers);
  }
  if (delayMs === undefined && abort === undefined) return {};
  return {
    ...(delayMs !== undefined ? { delayMs } : {}),
    ...(abort !== undefined ? { abort } : {}),
  };
}

/**
 * FaultFilter::abortStatus: an HTTP status wins; a gRPC status alone answers HTTP 200 with that
 * grpc-status. From headers, an HTTP status outside [200, 600) is ignored.
 */
function abortStatus(a: CompiledAbort, headers: FaultHeaderLookup | undefined): FaultDecision['abort'] {
  if (!a.fromHeaders) {
    if (a.httpStatus !== undefined) return { httpStatus: a.httpStatus };
    return a.grpcStatus !== undefined ? { httpStatus: 200, grpcStatus: a.grpcStatus } : undefined;
  }
  const http = headerInt(headers, FAULT_HEADERS.abortRequest);
  if (http !== undefined && http >= 200 && http < 600) return { httpStatus: http };
  const grpc = headerInt(headers, FAULT_HEADERS.abortGrpcRequest);
  return grpc !== undefined ? { httpStatus: 200, grpcStatus: grpc } : undefined;
}
