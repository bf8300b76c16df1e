/**
 * Answers a request from the mesh itself (direct_response, redirect) or fails it with a typed
 * error, through undici's handler contract, asynchronously as a real response would arrive.
 */
import { STATUS_CODES } from 'node:http';
import type { Dispatcher } from 'undici';
import { httpToGrpcStatus, isGrpcContentType } from '../telemetry/grpc-response-status.ts';

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
    const grpcStatus = abort.grpcStatus ?? Number(httpToGrpcStatus(status));
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
