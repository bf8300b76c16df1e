/**
 * Answers a request from the mesh itself (direct_response, redirect) or fails it with a typed
 * error, through undici's handler contract, asynchronously as a real response would arrive.
 */
import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';

/** The minimum of undici's DispatchController a local reply needs. */
class LocalController implements Dispatcher.DispatchController {
  aborted = false;
  paused = false;
  reason: Error | null = null;
  abort(reason: Error): void {
    this.aborted = true;
    this.reason = reason;
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    this.paused = false;
  }
}

export function respondLocally(
  handler: Dispatcher.DispatchHandler,
  status: number,
  headers: Record<string, string>,
  body: Uint8Array | undefined,
): void {
  queueMicrotask(() => {
    const controller = new LocalController();
    try {
      handler.onRequestStart?.(controller, {});
      if (controller.aborted)
        return handler.onResponseError?.(controller, controller.reason ?? new Error('aborted'));
      const allHeaders: Record<string, string> = {
        ...headers,
        'content-length': String(body?.byteLength ?? 0),
      };
      handler.onResponseStart?.(controller, status, allHeaders, STATUS_CODES[status] ?? '');
      if (body && body.byteLength > 0 && !controller.aborted)
        handler.onResponseData?.(controller, Buffer.from(body));
      if (controller.aborted)
        return handler.onResponseError?.(controller, controller.reason ?? new Error('aborted'));
      handler.onResponseEnd?.(controller, {});
    } catch (err) {
      handler.onResponseError?.(controller, err as Error);
    }
  });
}

export function failLocally(handler: Dispatcher.DispatchHandler, err: Error): void {
  queueMicrotask(() => handler.onResponseError?.(new LocalController(), err));
}

/** The body (or grpc-message) of Envoy's fault abort (FaultFilter::abortWithStatus). */
export const FAULT_ABORT_BODY = 'fault filter abort';

/**
 * Envoy's Grpc::Utility::httpToGrpcStatus, for a local reply to a gRPC request that names no
 * gRPC status.
 */
function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13; // INTERNAL
    case 401:
      return 16; // UNAUTHENTICATED
    case 403:
      return 7; // PERMISSION_DENIED
    case 404:
      return 12; // UNIMPLEMENTED
    case 429:
    case 502:
    case 503:
    case 504:
      return 14; // UNAVAILABLE
    default:
      return 2; // UNKNOWN
  }
}

/** Grpc::Common::isGrpcRequestHeaders: `application/grpc`, alone or followed by `+` or `;`. */
function isGrpcContentType(contentType: string | undefined): boolean {
  if (contentType === undefined || !contentType.startsWith('application/grpc')) return false;
  const next = contentType[16];
  return next === undefined || next === '+' || next === ';';
}

/**
 * Answers a fault abort the way Envoy's sendLocalReply does (Http::Utility::prepareLocalReply):
 * to a gRPC request, a trailers-only HTTP 200 with `grpc-status` (the configured gRPC status, else
 * the HTTP status mapped) and `grpc-message: fault filter abort`; to any other request, the HTTP
 * status with a text/plain body `fault filter abort` (none for HEAD). A configured gRPC status
 * alone is HTTP 200 for a plain HTTP request, as in Envoy.
 */
export function respondFaultAbort(
  handler: Dispatcher.DispatchHandler,
  abort: { readonly httpStatus?: number; readonly grpcStatus?: number },
  method: string,
  contentType: string | undefined,
): void {
  const status = abort.httpStatus ?? 200;
  if (isGrpcContentType(contentType)) {
    const grpcStatus = abort.grpcStatus ?? httpToGrpcStatus(status);
    respondLocally(
      handler,
      200,
      {
        'content-type': 'application/grpc',
        'grpc-status': String(grpcStatus),
        'grpc-message': FAULT_ABORT_BODY,
      },
      undefined,
    );
    return;
  }
  respondLocally(
    handler,
    status,
    { 'content-type': 'text/plain' },
    method === 'HEAD' ? undefined : Buffer.from(FAULT_ABORT_BODY),
  );
}
