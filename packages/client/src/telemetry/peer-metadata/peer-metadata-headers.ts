/**
 * Istio's HTTP metadata exchange, as a sidecar's `io.istio.http.peer_metadata` filter does it
 * (istio/proxy source/extensions/filters/http/peer_metadata, `IstioHeaders` discovery and
 * propagation): the client sends its workload metadata on the request, the server answers with
 * its own on the response when the request carried some, and each side removes the peer's
 * headers before the application sees them.
 *
 * Current sidecars (Istio 1.2x) still use these two headers; the `Baggage` discovery method of
 * the same filter is marked DEPRECATED in its config.proto, and ambient mode looks peers up by
 * address through workload xDS instead. Dabba speaks the headers.
 */

/** Base64 of a serialized `google.protobuf.Struct` holding the workload's node metadata. */
export const PEER_METADATA_HEADER = 'x-envoy-peer-metadata';
/** The sender's Envoy node id (`sidecar~<ip>~<pod>.<ns>~<ns>.svc.<domain>`); a cache key for peers. */
export const PEER_METADATA_ID_HEADER = 'x-envoy-peer-metadata-id';

/**
 * The longest `x-envoy-peer-metadata` value Dabba decodes, in characters. A sidecar's value is a
 * few hundred bytes (a handful of names and four labels); anything longer is ignored as if absent,
 * so untrusted input costs at most this much work.
 */
export const MAX_PEER_METADATA_LENGTH = 4096;

/** Removes both exchange headers from a header record (lowercase names), as the filter does. */
export function removePeerMetadataHeaders(headers: Record<string, unknown>): void {
  if (headers[PEER_METADATA_HEADER] !== undefined) delete headers[PEER_METADATA_HEADER];
  if (headers[PEER_METADATA_ID_HEADER] !== undefined) delete headers[PEER_METADATA_ID_HEADER];
}
