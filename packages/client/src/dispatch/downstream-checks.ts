/**
 * What an Envoy sidecar refuses or changes before it routes a request from its application:
 * the HTTP/1 codec's header limits (http1/codec_impl.cc checkMaxHeadersSize and the headers
 * count check) and the connection manager's path normalization (maybeNormalizePath). A refused
 * request is answered locally as Envoy answers it, and is never sent:
 *
 * - headers over `max_request_headers_kb` (the request target counts, as in the codec): 431,
 *   details `http1.headers_too_large`, flag `DPE`;
 * - more than `max_headers_count` headers: 431, `http1.too_many_headers`, `DPE`;
 * - a path normalization refuses (a fragment, a NUL, an escaped slash under REJECT_REQUEST):
 *   400, `path_normalization_failed`, no flag; UNESCAPE_AND_REDIRECT answers 307 to the
 *   normalized path.
 */

import type { ListenerSettings } from '@dabba/discovery';
import type { Dispatcher } from 'undici';
import { normalizeRequestPath } from '../route/normalize-path.ts';

/** A local answer in place of routing. */
export interface DownstreamRefusal {
  readonly status: number;
  readonly responseFlags: string;
  readonly details: string;
  readonly headers: Record<string, string>;
  readonly body: Uint8Array | undefined;
}

const TOO_LARGE_BODY = Buffer.from('Request Header Fields Too Large');

function tooLarge(details: string): DownstreamRefusal {
  return {
    status: 431,
    responseFlags: 'DPE',
    details,
    headers: { 'content-type': 'text/plain' },
    body: TOO_LARGE_BODY,
  };
}

const PATH_NORMALIZATION_FAILED: DownstreamRefusal = Object.freeze({
  status: 400,
  responseFlags: '-',
  details: 'path_normalization_failed',
  headers: Object.freeze({}) as Record<string, string>,
  body: undefined,
});

type RawValue = string | string[] | number | null | undefined | Buffer | Buffer[];

function valueBytes(value: RawValue): number {
  if (value === null || value === undefined) return 0;
  if (Array.isArray(value)) {
    let n = 0;
    for (const v of value) n += String(v).length;
    return n;
  }
  return typeof value === 'string' ? value.length : String(value).length;
}

function valueCount(value: RawValue): number {
  if (value === null || value === undefined) return 0;
  return Array.isArray(value) ? value.length : 1;
}

// The running totals of one check; the request path is synchronous, so module state serves
// and nothing is allocated per request.
let maxBytes = 0;
let maxCount = 0;
let bytes = 0;
let count = 0;
let gaveHost = false;

/** Reads one header into the totals; the limit it crosses, if any. */
function add(name: string, value: RawValue): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (name.length === 4 && !gaveHost && isHost(name)) gaveHost = true;
  bytes += name.length + valueBytes(value);
  count += valueCount(value);
  if (bytes > maxBytes) return TOO_LARGE;
  if (count > maxCount) return TOO_MANY;
  return undefined;
}

function isHost(name: string): boolean {
  return name.length === 4 && name.toLowerCase() === 'host';
}

/**
 * Envoy's codec checks its limits as it reads: the request target, then each header, so
 * whichever limit a header crosses first is the one reported. undici writes Host itself unless
 * the caller gave one; it is counted last here (one pass over the headers), which can only
 * change which of the two limits is named when a request crosses both with its last header.
 * `undefined` when both hold.
 */
function headerLimitCrossed(
  settings: ListenerSettings,
  path: string,
  authority: string,
  raw: Dispatcher.DispatchOptions['headers'],
): string | undefined {
  maxBytes = settings.maxRequestHeadersBytes;
  maxCount = settings.maxHeadersCount;
  bytes = path.length;
  count = 0;
  gaveHost = false;
  if (bytes > maxBytes) return TOO_LARGE;
  let crossed: string | undefined;
  if (raw == null) {
    // No headers of the caller's.
  } else if (Array.isArray(raw)) {
    for (let i = 0; i + 1 < raw.length && crossed === undefined; i += 2)
      crossed = add(String(raw[i]), raw[i + 1] as RawValue);
  } else if (typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') {
    for (const [k, v] of raw as Iterable<[string, RawValue]>) {
      crossed = add(k, v);
      if (crossed !== undefined) break;
    }
  } else {
    const obj = raw as Record<string, RawValue>;
    for (const k in obj) {
      crossed = add(k, obj[k]);
      if (crossed !== undefined) break;
    }
  }
  if (crossed !== undefined || gaveHost) return crossed;
  return add('host', authority);
}

const TOO_LARGE = 'http1.headers_too_large';
const TOO_MANY = 'http1.too_many_headers';

/**
 * Runs the checks for a request to a port whose listener has `settings`: the path to route
 * and forward (the same string when unchanged), or the local answer in its place.
 */
export function checkDownstream(
  settings: ListenerSettings,
  path: string,
  authority: string,
  headers: Dispatcher.DispatchOptions['headers'],
): string | DownstreamRefusal {
  const crossed = headerLimitCrossed(settings, path, authority, headers);
  if (crossed !== undefined) return tooLarge(crossed);
  const normalized = normalizeRequestPath(path, settings.pathNormalization);
  if (typeof normalized === 'string') return normalized;
  if (normalized === undefined) return PATH_NORMALIZATION_FAILED;
  return {
    status: 307,
    responseFlags: '-',
    details: 'path_normalization_failed',
    headers: { location: normalized.redirect },
    body: undefined,
  };
}
