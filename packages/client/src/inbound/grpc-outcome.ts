/**
 * gRPC facts the inbound stats need, as Envoy defines them (source/common/grpc/common.cc and
 * status.cc).
 */

/**
 * Whether a content-type is gRPC: `application/grpc`, or it followed by `+` or `;`
 * (`Grpc::Common::isGrpcRequestHeaders` / `hasGrpcContentType`).
 */
export function isGrpcContentType(value: unknown): boolean {
  if (typeof value !== 'string' || !value.startsWith('application/grpc')) return false;
  if (value.length === 16) return true;
  const c = value.charCodeAt(16);
  return c === 0x2b /* + */ || c === 0x3b /* ; */;
}

/** A `grpc-status` header or trailer value, 0-16; `undefined` when absent or not a known code. */
export function parseGrpcStatus(value: unknown): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (typeof v === 'number') return Number.isInteger(v) && v >= 0 && v <= 16 ? v : undefined;
  if (typeof v !== 'string' || !/^[0-9]{1,2}$/.test(v)) return undefined;
  const n = Number(v);
  return n <= 16 ? n : undefined;
}

/**
 * The gRPC status Envoy infers from an HTTP status when the response carries none
 * (`Grpc::Utility::httpToGrpcStatus`): 400 INTERNAL, 401 UNAUTHENTICATED, 403
 * PERMISSION_DENIED, 404 UNIMPLEMENTED, 429/502/503/504 UNAVAILABLE, anything else UNKNOWN.
 */
export function httpToGrpcStatus(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/**
 * The `grpc_response_status` label of a gRPC request (`Grpc::Common::getGrpcStatus` as the
 * stats filter calls it): the trailer, else the header (a trailers-only response), else the
 * status inferred from the HTTP code; `''` when there was no response at all.
 */
export function grpcResponseStatus(
  trailer: number | undefined,
  header: number | undefined,
  httpStatus: number,
): string {
  const s = trailer ?? header ?? (httpStatus === 0 ? undefined : httpToGrpcStatus(httpStatus));
  return s === undefined ? '' : GRPC_STRINGS[s]!;
}

const GRPC_STRINGS = Array.from({ length: 17 }, (_, i) => String(i));
