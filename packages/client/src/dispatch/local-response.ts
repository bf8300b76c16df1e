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
