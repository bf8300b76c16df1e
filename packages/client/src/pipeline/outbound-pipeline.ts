/**
 * The outbound path after routing, composed once per mesh: Envoy's fault filter, then the
 * request's destination (a local answer, its original destination, or the router and its
 * mirrors). Routing itself, and the codec's checks before it, run in Mesh.dispatch, which makes
 * the request's record and hands it here.
 */
import type { MeshContext } from '../dispatch/mesh-context.ts';
import { destinationStage } from './destination-stage.ts';
import { faultStage } from './fault-stage.ts';
import type { Stage } from './stage.ts';

export function composeOutbound(ctx: MeshContext): Stage {
  return faultStage(ctx, destinationStage(ctx));
}
