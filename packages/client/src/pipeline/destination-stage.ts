/**
 * The last stage: the request goes where its routing decision says. No route or cluster, a
 * direct response or a redirect: the mesh answers (dispatch/local-reply.ts). An unknown port or
 * Istio's `allow_any` route: its original destination (dispatch/passthrough.ts). A cluster: the
 * router, then the route's mirror copies (dispatch/forward-upstream.ts).
 */
import { forwardUpstream } from '../dispatch/forward-upstream.ts';
import { answerDirectly, failUnrouted } from '../dispatch/local-reply.ts';
import type { MeshContext } from '../dispatch/mesh-context.ts';
import { passThrough } from '../dispatch/passthrough.ts';
import type { Stage } from './stage.ts';

export function destinationStage(ctx: MeshContext): Stage {
  return (record, handler) => {
    const decision = record.decision!;
    switch (decision.kind) {
      case 'error':
        failUnrouted(handler, decision, record);
        return true;
      case 'local':
        answerDirectly(handler, decision, record);
        return true;
      case 'passthrough':
        return passThrough(ctx, record, handler);
      default:
        return forwardUpstream(ctx, decision, record, handler);
    }
  };
}
