import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';

/** An inbound request as Node's `http` server (or `http2`'s compatibility API) delivers it. */
export type InboundRequest = IncomingMessage | Http2ServerRequest;
/** Its response. */
export type InboundResponse = ServerResponse | Http2ServerResponse;

/** A Node request listener: what `http.createServer()` takes and `mesh.inbound()` returns. */
export type InboundListener<
  Req extends InboundRequest = IncomingMessage,
  Res extends InboundResponse = ServerResponse,
> = (req: Req, res: Res) => void;

/**
 * One concern of the inbound path (telemetry, tracing; later peer authentication and
 * authorization), run in order before the application, like the HTTP filters of a sidecar's
 * inbound listener. A step calls `next(req, res)` to go on, or answers itself and does not
 * (a policy that denies). Steps are composed once, so a request allocates nothing for the chain.
 */
export type InboundStep = (req: InboundRequest, res: InboundResponse, next: InboundNext) => void;
/** The rest of the chain, ending with the application's listener. */
export type InboundNext = (req: InboundRequest, res: InboundResponse) => void;

/** `steps` in front of `listener`, first step first. No steps: the listener itself. */
export function composeInbound(steps: readonly InboundStep[], listener: InboundNext): InboundNext {
  let next = listener;
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i]!;
    const after = next;
    next = (req, res) => step(req, res, after);
  }
  return next;
}
