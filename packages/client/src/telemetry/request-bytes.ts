/**
 * The size of a request as a sidecar counts it for `istio_request_bytes`: its HTTP/1.1 head
 * (telemetry/wire-size.ts) and its body when the length is known up front.
 */
import type { Dispatcher } from 'undici';
import { requestHeadBytes } from './wire-size.ts';

/** The request's HTTP/1.1 head and known body length, as a sidecar would count it (wire-size.ts). */
export function requestBytes(options: Dispatcher.DispatchOptions, authority: string): number {
  return requestHeadBytes(options.method, options.path, options.headers, authority) + bodyBytes(options.body);
}

/** The request body's length when it is known up front (a string or bytes); 0 otherwise. */
export function bodyBytes(body: Dispatcher.DispatchOptions['body']): number {
  if (body === undefined || body === null) return 0;
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (ArrayBuffer.isView(body)) return body.byteLength;
  return 0;
}
