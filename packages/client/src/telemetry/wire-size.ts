/**
 * Sizes of a request's and a response's HTTP/1.1 head, for `istio_request_bytes` and
 * `istio_response_bytes`. istio/proxy's istio_stats.cc records the downstream connection's wire
 * bytes (`getDownstreamBytesMeter()->wireBytesReceived()` / `wireBytesSent()`): on a source-side
 * sidecar, the request as the app wrote it (request line, headers, body) and the response as the
 * sidecar wrote it back. Dabba has no connection between the app and itself, so it counts what
 * that exchange would be in HTTP/1.1 (the protocol an app speaks to its sidecar unless it is
 * configured otherwise), from the headers the app handed to `dispatch` and the head the upstream
 * answered with. Header names and values are counted by `.length`: HTTP field bytes are latin1,
 * one byte per character, which is how undici writes them.
 *
 * Not counted: headers an HTTP client adds on its own (connection, content-length,
 * transfer-encoding), chunked-encoding framing, trailers, and the local reply Envoy would write
 * for a request that got no response (Dabba fails it with a typed error instead).
 */
import { STATUS_CODES } from 'node:http';

/** `\r\n` after the last header. */
const END_OF_HEAD = 2;
/** `: ` between name and value, `\r\n` after the value. */
const FIELD_FRAMING = 4;
/** ` HTTP/1.1\r\n` after the request target. */
const REQUEST_LINE_TAIL = 11;
/** `HTTP/1.1 ` + 3-digit status + ` ` + `\r\n` around the reason phrase. */
const STATUS_LINE_FRAMING = 15;

type RequestHeaders =
  | readonly unknown[]
  | Readonly<Record<string, unknown>>
  | Iterable<unknown>
  | null
  | undefined;

/**
 * Bytes of `<method> <path> HTTP/1.1`, the headers as given, a `host` line when they have none
 * (an HTTP/1.1 client always sends one), and the blank line.
 */
export function requestHeadBytes(
  method: string,
  path: string,
  headers: RequestHeaders,
  authority: string,
): number {
  let n = method.length + 1 + path.length + REQUEST_LINE_TAIL + END_OF_HEAD;
  let host = false;
  if (Array.isArray(headers)) {
    if (headers.length > 0 && Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) {
        n += fieldBytes(String(pair[0]), pair[1]);
        host ||= isHost(pair[0]);
      }
    } else {
      for (let i = 0; i + 1 < headers.length; i += 2) {
        n += fieldBytes(String(headers[i]), headers[i + 1]);
        host ||= isHost(headers[i]);
      }
    }
  } else if (headers != null && typeof (headers as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const pair of headers as Iterable<unknown>) {
      if (!Array.isArray(pair)) continue;
      n += fieldBytes(String(pair[0]), pair[1]);
      host ||= isHost(pair[0]);
    }
  } else if (headers != null) {
    const record = headers as Readonly<Record<string, unknown>>;
    for (const key in record) {
      n += fieldBytes(key, record[key]);
      host ||= isHost(key);
    }
  }
  if (!host) n += 4 + authority.length + FIELD_FRAMING;
  return n;
}

/** `name: value\r\n` once per value; nothing for an absent value. */
function fieldBytes(key: string, value: unknown): number {
  if (value === undefined || value === null) return 0;
  if (typeof value === 'string') return key.length + value.length + FIELD_FRAMING;
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += key.length + String(v).length + FIELD_FRAMING;
    return n;
  }
  return key.length + String(value).length + FIELD_FRAMING;
}

function isHost(name: unknown): boolean {
  return typeof name === 'string' && name.length === 4 && name.toLowerCase() === 'host';
}

/**
 * Bytes of `HTTP/1.1 <status> <reason>`, the response headers as undici received them
 * (`rawHeaders`: a flat array of Buffers, or an object from HTTP/2), and the blank line.
 */
export function responseHeadBytes(status: number, rawHeaders: unknown): number {
  let n = STATUS_LINE_FRAMING + (STATUS_CODES[status]?.length ?? 0) + END_OF_HEAD;
  if (Array.isArray(rawHeaders)) {
    for (const part of rawHeaders) n += (part as { length?: number }).length ?? 0;
    n += (rawHeaders.length >> 1) * FIELD_FRAMING;
  } else if (rawHeaders != null && typeof rawHeaders === 'object') {
    const record = rawHeaders as Readonly<Record<string, unknown>>;
    for (const key in record) {
      // HTTP/2 pseudo-headers (:status) are the status line in HTTP/1.1.
      if (key.charCodeAt(0) === 58) continue;
      const value = record[key];
      if (Array.isArray(value)) {
        for (const v of value) n += key.length + String(v).length + FIELD_FRAMING;
      } else if (value !== undefined) {
        n += key.length + String(value).length + FIELD_FRAMING;
      }
    }
  }
  return n;
}
