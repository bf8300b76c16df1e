/**
 * route_components.proto DirectResponseAction (Route.direct_response): a status in [200, 600)
 * and an inline body no larger than the route configuration's
 * `max_direct_response_body_size_bytes`.
 */
export interface DirectResponseModel {
  readonly kind: 'directResponse';
  readonly status: number;
  /** `inline_string` as a string, `inline_bytes` as bytes; undefined for no body. */
  readonly body: string | Uint8Array | undefined;
}
