import type { DirectResponseAction } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { DirectResponseModel } from '../model/direct-response.ts';
import type { IssueSink } from './decoded.ts';

/** RouteConfiguration.max_direct_response_body_size_bytes when unset. */
export const DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES = 4096;

/**
 * A DirectResponseAction: a status in [200, 600) and an inline body of at most `maxBodyBytes`.
 * A body read from a file or the environment is refused: reading either would make decoding
 * impure (Istio's translator inlines bodies).
 *
 * @param path field path of the DirectResponseAction.
 */
export function decodeDirectResponse(
  d: DirectResponseAction,
  path: string,
  maxBodyBytes: number,
  sink: IssueSink,
): DirectResponseModel {
  if (!Number.isInteger(d.status) || d.status < 200 || d.status >= 600)
    sink.add(`${path}.status`, 'must be in [200, 600)');
  let body: string | Uint8Array | undefined;
  let size = 0;
  const s = d.body?.specifier ?? { case: undefined };
  switch (s.case) {
    case undefined:
      break;
    case 'inlineString':
      body = s.value;
      size = Buffer.byteLength(s.value);
      break;
    case 'inlineBytes':
      body = s.value.slice();
      size = s.value.length;
      break;
    default:
      sink.add(`${path}.body.${s.case}`, 'not supported by Dabba; use inlineString or inlineBytes');
  }
  if (size > maxBodyBytes)
    sink.add(`${path}.body`, `response body size is ${size} bytes; maximum is ${maxBodyBytes}`);
  return { kind: 'directResponse', status: d.status, body };
}
