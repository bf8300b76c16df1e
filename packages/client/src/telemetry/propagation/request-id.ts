/**
 * Envoy's `x-request-id`: the connection manager generates a UUID version 4 when the request has
 * none (`generate_request_id`, default true) and forwards the request's own otherwise
 * (`preserve_external_request_id` applies to edge requests; a sidecar's outbound request keeps
 * the one the application set). Envoy's UuidRequestIdConfig.
 */
import { randomUUID } from 'node:crypto';

/** A random RFC 4122 version 4 UUID, lowercase, as Envoy writes it. */
export function generateRequestId(): string {
  return randomUUID();
}
