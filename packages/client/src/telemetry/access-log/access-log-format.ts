/**
 * Envoy's access log format strings (`%COMMAND%` operators, Envoy docs
 * configuration/observability/access_log/usage "Command operators"), compiled once at
 * construction into a list of parts, and Istio's JSON encoding of the same fields.
 *
 * Presets:
 * - `istio` (default): Istio's default TEXT format (`meshConfig.accessLogFormat` unset,
 *   pilot/pkg/model/telemetry_logging.go), Envoy's default plus response code details, the
 *   upstream cluster and the route name.
 * - `envoy`: Envoy's own default format string (Envoy docs, "Default format string").
 * - `json`: Istio's default JSON encoding (`accessLogEncoding: JSON`): the `istio` fields under
 *   Istio's keys, numbers as numbers, an unset value as `null` (as Envoy's json_format writes it).
 *
 * Fields with no meaning in a process with no downstream connection (downstream addresses,
 * requested server name, upstream local address, termination details, transport failure reason)
 * are `-` (`null` in JSON), as Envoy writes an unset value.
 */
import type { AccessLogEntry } from './access-log-entry.ts';

export const ISTIO_TEXT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED% ' +
  '%BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" ' +
  '"%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS% ' +
  '%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%\n';

export const ENVOY_DEFAULT_FORMAT =
  '[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS% ' +
  '%BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" ' +
  '"%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"\n';

/** Istio's JSON keys and the operator each holds, in Istio's order. */
export const ISTIO_JSON_FIELDS: readonly (readonly [string, string])[] = Object.freeze([
  ['start_time', '%START_TIME%'],
  ['route_name', '%ROUTE_NAME%'],
  ['method', '%REQ(:METHOD)%'],
  ['path', '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%'],
  ['protocol', '%PROTOCOL%'],
  ['response_code', '%RESPONSE_CODE%'],
  ['response_flags', '%RESPONSE_FLAGS%'],
  ['response_code_details', '%RESPONSE_CODE_DETAILS%'],
  ['connection_termination_details', '%CONNECTION_TERMINATION_DETAILS%'],
  ['bytes_received', '%BYTES_RECEIVED%'],
  ['bytes_sent', '%BYTES_SENT%'],
  ['duration', '%DURATION%'],
  ['upstream_service_time', '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%'],
  ['x_forwarded_for', '%REQ(X-FORWARDED-FOR)%'],
  ['user_agent', '%REQ(USER-AGENT)%'],
  ['request_id', '%REQ(X-REQUEST-ID)%'],
  ['authority', '%REQ(:AUTHORITY)%'],
  ['upstream_host', '%UPSTREAM_HOST%'],
  ['upstream_cluster', '%UPSTREAM_CLUSTER_RAW%'],
  ['upstream_local_address', '%UPSTREAM_LOCAL_ADDRESS%'],
  ['downstream_local_address', '%DOWNSTREAM_LOCAL_ADDRESS%'],
  ['downstream_remote_address', '%DOWNSTREAM_REMOTE_ADDRESS%'],
  ['requested_server_name', '%REQUESTED_SERVER_NAME%'],
  ['upstream_transport_failure_reason', '%UPSTREAM_TRANSPORT_FAILURE_REASON%'],
]);

/** One operator's value: `undefined` is unset (`-` in text, `null` in JSON). */
type Field = (e: AccessLogEntry) => string | number | undefined;

const unset: Field = () => undefined;

const SIMPLE: Readonly<Record<string, Field>> = {
  START_TIME: (e) => new Date(e.startTime).toISOString(),
  PROTOCOL: (e) => e.protocol,
  RESPONSE_CODE: (e) => e.status,
  RESPONSE_FLAGS: (e) => e.responseFlags,
  RESPONSE_CODE_DETAILS: (e) => e.responseCodeDetails,
  BYTES_RECEIVED: (e) => e.bytesReceived,
  BYTES_SENT: (e) => e.bytesSent,
  DURATION: (e) => e.durationMs,
  UPSTREAM_HOST: (e) => e.upstreamHost,
  UPSTREAM_CLUSTER: (e) => e.upstreamCluster,
  UPSTREAM_CLUSTER_RAW: (e) => e.upstreamCluster,
  ROUTE_NAME: (e) => (e.routeName === '' ? undefined : e.routeName),
  UPSTREAM_REQUEST_ATTEMPT_COUNT: (e) => e.attempts,
  CONNECTION_TERMINATION_DETAILS: unset,
  UPSTREAM_TRANSPORT_FAILURE_REASON: unset,
  UPSTREAM_LOCAL_ADDRESS: unset,
  DOWNSTREAM_LOCAL_ADDRESS: unset,
  DOWNSTREAM_REMOTE_ADDRESS: unset,
  REQUESTED_SERVER_NAME: unset,
};

/** Request pseudo-headers as Envoy names them. */
function requestField(name: string): Field {
  switch (name) {
    case ':method':
      return (e) => e.method;
    case ':path':
      return (e) => e.pathAndQuery;
    case ':authority':
      return (e) => e.authority;
    default:
      return (e) => e.requestHeader(name);
  }
}

function responseField(name: string): Field {
  // Envoy's router adds x-envoy-upstream-service-time to the response; Dabba measures it.
  if (name === 'x-envoy-upstream-service-time') return (e) => e.upstreamServiceTimeMs;
  return (e) => e.responseHeader(name);
}

/** `REQ(A?B)`: A, else B (Envoy's alternative header syntax). */
function headerOperator(arg: string, one: (name: string) => Field): Field {
  const [first, second] = arg.toLowerCase().split('?') as [string, string?];
  const a = one(first);
  if (second === undefined) return a;
  const b = one(second);
  return (e) => a(e) ?? b(e);
}

/** Compiles one operator (without its `%`s); `undefined` when unknown. */
export function compileOperator(op: string): Field | undefined {
  const simple = SIMPLE[op];
  if (simple !== undefined) return simple;
  const m = /^(REQ|RESP)\(([^)]+)\)(?::\d+)?$/.exec(op);
  if (m === null) return undefined;
  return headerOperator(m[2]!, m[1] === 'REQ' ? requestField : responseField);
}

/** A compiled text format: literal strings and fields, in order. */
export type TextFormat = readonly (string | Field)[];

/**
 * Compiles a format string; unknown operators are reported in `unknown` (the caller turns
 * them into configuration issues). A `%` that opens no operator stays literal.
 */
export function compileTextFormat(format: string, unknown: string[]): TextFormat {
  const parts: (string | Field)[] = [];
  const re = /%([A-Z_]+(?:\([^)%]*\))?(?::\d+)?)%/g;
  let last = 0;
  for (let m = re.exec(format); m !== null; m = re.exec(format)) {
    if (m.index > last) parts.push(format.slice(last, m.index));
    const field = compileOperator(m[1]!);
    if (field === undefined) unknown.push(m[1]!);
    else parts.push(field);
    last = m.index + m[0].length;
  }
  if (last < format.length) parts.push(format.slice(last));
  return parts;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
const UNSAFE_IN_TEXT = /[\u0000-\u001f\u007f"\\]/g;

/**
 * A request value as a text line may hold it: control characters, DEL, `"` and `\` as `\xHH`
 * (nginx's default log escaping). Envoy's text formatter writes values raw because its codecs
 * refuse CR, LF and NUL before a request is logged; here the request comes from the
 * application, so one request must never write two lines (or forge a field) however its
 * headers and path were built.
 */
export function escapeTextValue(value: string): string {
  UNSAFE_IN_TEXT.lastIndex = 0;
  if (!UNSAFE_IN_TEXT.test(value)) return value;
  return value.replace(UNSAFE_IN_TEXT, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function renderText(format: TextFormat, entry: AccessLogEntry): string {
  let out = '';
  for (const part of format) {
    if (typeof part === 'string') {
      out += part;
      continue;
    }
    const v = part(entry);
    out += v === undefined || v === '' ? '-' : typeof v === 'string' ? escapeTextValue(v) : String(v);
  }
  return out;
}

const JSON_FIELDS: readonly (readonly [string, Field])[] = ISTIO_JSON_FIELDS.map(
  ([key, op]) => [key, compileOperator(op.slice(1, -1))!] as const,
);

/** One JSON line with Istio's keys. */
export function renderJson(entry: AccessLogEntry): string {
  const record: Record<string, string | number | null> = {};
  for (const [key, field] of JSON_FIELDS) {
    const v = field(entry);
    record[key] = v === undefined || v === '' ? null : v;
  }
  return `${JSON.stringify(record)}\n`;
}
