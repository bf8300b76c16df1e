/**
 * gRPC detection for Istio's request metrics, as istio/proxy's istio_stats.cc does it:
 * `request_protocol` is `grpc` when `Grpc::Common::isGrpcRequestHeaders` holds, and
 * `grpc_response_status` is Envoy's `Grpc::Common::getGrpcStatus(trailers, headers, info)`:
 * the `grpc-status` trailer, else the `grpc-status` header (a trailers-only response), else the
 * HTTP status mapped by `Grpc::Utility::httpToGrpcStatus`, else empty. A `grpc-status` that is
 * not an integer in 0..16 is Envoy's `InvalidCode` (-1). The label therefore takes at most 19
 * values: '', '-1' and '0'..'16'.
 */

/** `Grpc::Status::WellKnownGrpcStatus::MaximumKnown` (Unauthenticated). */
const MAX_KNOWN = 16;
/** `Grpc::Status::WellKnownGrpcStatus::InvalidCode`, as istio_stats writes it. */
const GRPC_INVALID_STATUS = '-1';

/** Grpc::Common::isGrpcRequestHeaders: content-type `application/grpc`, alone or followed by `+` or `;`. */
export function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith('application/grpc')) return false;
  const next = contentType[16];
  return next === undefined || next === '+' || next === ';';
}

type RawHeaders =
  | readonly unknown[]
  | Readonly<Record<string, unknown>>
  | Iterable<unknown>
  | null
  | undefined;

/**
 * Whether the request headers (any form undici's `dispatch` accepts: a flat `[name, value, ...]`
 * array, an object, or an iterable of pairs) carry a gRPC content-type. Scans without building
 * a header map; runs only when metrics are on.
 */
export function isGrpcRequest(headers: RawHeaders): boolean {
  return isGrpcContentType(headerValue(headers, 'content-type'));
}

/**
 * The `grpc-status` in a response's raw headers or trailers (undici's `rawHeaders` /
 * `rawTrailers`: a flat array of Buffers or strings, or an object from HTTP/2), as Envoy's
 * `getGrpcStatus(headers)` reads it: undefined when absent, `-1` when not a known code.
 */
export function grpcStatusOf(headers: RawHeaders): string | undefined {
  const value = headerValue(headers, 'grpc-status');
  if (value === undefined) return undefined;
  // absl::SimpleAtoi into uint64: decimal digits only (surrounding whitespace allowed).
  const trimmed = value.trim();
  if (!/^[0-9]{1,10}$/.test(trimmed)) return GRPC_INVALID_STATUS;
  const code = Number(trimmed);
  return code <= MAX_KNOWN ? String(code) : GRPC_INVALID_STATUS;
}

/** Envoy's Grpc::Utility::httpToGrpcStatus, as a label value. */
export function httpToGrpcStatus(status: number): string {
  switch (status) {
    case 400:
      return '13'; // INTERNAL
    case 401:
      return '16'; // UNAUTHENTICATED
    case 403:
      return '7'; // PERMISSION_DENIED
    case 404:
      return '12'; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return '14'; // UNAVAILABLE
    default:
      return '2'; // UNKNOWN
  }
}

/** The first value of `name` (lowercase) in raw headers, compared case-insensitively. */
function headerValue(headers: RawHeaders, name: string): string | undefined {
  if (headers == null) return undefined;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) return pairValue(headers as Iterable<unknown>, name);
    for (let i = 0; i + 1 < headers.length; i += 2) {
      if (sameName(headers[i], name)) return stringOf(headers[i + 1]);
    }
    return undefined;
  }
  // The common case first: a plain object with the lowercase name.
  const direct = (headers as Readonly<Record<string, unknown>>)[name];
  if (typeof direct === 'string') return direct;
  if (typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    return pairValue(headers as Iterable<unknown>, name);
  }
  const record = headers as Readonly<Record<string, unknown>>;
  if (direct !== undefined) return stringOf(direct);
  for (const key in record) if (sameName(key, name)) return stringOf(record[key]);
  return undefined;
}

function pairValue(pairs: Iterable<unknown>, name: string): string | undefined {
  for (const pair of pairs) {
    if (Array.isArray(pair) && sameName(pair[0], name)) return stringOf(pair[1]);
  }
  return undefined;
}

/** Case-insensitive name match without allocating; `name` is lowercase ASCII. */
function sameName(raw: unknown, name: string): boolean {
  if (typeof raw === 'string') return raw.length === name.length && raw.toLowerCase() === name;
  if (!(raw instanceof Uint8Array) || raw.length !== name.length) return false;
  for (let i = 0; i < raw.length; i++) {
    // ASCII letters differ from their uppercase by 0x20; other bytes must match exactly.
    const b = raw[i]!;
    if ((b >= 65 && b <= 90 ? b | 0x20 : b) !== name.charCodeAt(i)) return false;
  }
  return true;
}

function stringOf(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : stringOf(value[0]);
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  return String(value);
}
