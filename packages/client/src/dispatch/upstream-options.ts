/**
 * The DispatchOptions every attempt of a routed request sends: the caller's, with the upstream
 * Host, the rewritten path and the headers a sidecar's filters and router set on the way out, in
 * Envoy's order: the x-envoy-* headers the router consumed removed, the expected timeout
 * (setTimeoutHeaders), Istio's metadata exchange (the peer_metadata filter, before the router),
 * the route's header mutations, then the trace context (the router injects the span's context
 * last). A request needing none of it is sent with the caller's options object itself.
 */
import type { Dispatcher } from 'undici';
import { applyHeaderMutations, type HeaderMutations } from '../route/header-mutations.ts';
import type { ObservedRequest } from '../telemetry/observed-request.ts';
import type { LocalPeerMetadata } from '../telemetry/peer-metadata/encode-peer-metadata.ts';
import {
  PEER_METADATA_HEADER,
  PEER_METADATA_ID_HEADER,
} from '../telemetry/peer-metadata/peer-metadata-headers.ts';
import { withPeerMetadataHeaders } from '../telemetry/peer-metadata/with-peer-metadata.ts';
import { CONSUMED_ENVOY_HEADERS, EXPECTED_RQ_TIMEOUT_MS } from './envoy-request-headers.ts';
import type { IncomingRequest } from './incoming-request.ts';

/**
 * The upstream options of a request to `authority` (sent by a pool that `writesAuthority` from its
 * origin, or not). `rewritten` is the rewritten path, if any; `stripEnvoyHeaders` whether the
 * request carried x-envoy-* overrides; `expectedTimeout` the x-envoy-expected-rq-timeout-ms value,
 * if any; `peerMetadata` the exchange headers to send, if the cluster is in the mesh.
 */
export function upstreamOptions(
  options: Dispatcher.DispatchOptions,
  request: IncomingRequest,
  authority: string,
  writesAuthority: boolean,
  rewritten: string | undefined,
  mutations: HeaderMutations,
  stripEnvoyHeaders: boolean,
  expectedTimeout: number | undefined,
  peerMetadata: LocalPeerMetadata | undefined,
  observer: ObservedRequest | undefined,
): Dispatcher.DispatchOptions {
  if (
    mutations.length > 0 ||
    authority !== request.authority ||
    !writesAuthority ||
    stripEnvoyHeaders ||
    expectedTimeout !== undefined ||
    observer?.injects === true
  ) {
    const record = request.toRecord();
    record.host = authority;
    if (stripEnvoyHeaders) for (const name of CONSUMED_ENVOY_HEADERS) delete record[name];
    if (expectedTimeout !== undefined) record[EXPECTED_RQ_TIMEOUT_MS] = String(expectedTimeout);
    if (peerMetadata !== undefined) {
      record[PEER_METADATA_HEADER] = peerMetadata.value;
      record[PEER_METADATA_ID_HEADER] = peerMetadata.id;
    }
    if (mutations.length > 0) applyHeaderMutations(mutations, record);
    // Envoy's router injects the span's context last, over the route's header mutations.
    observer?.inject(record);
    return { ...options, path: rewritten ?? options.path, headers: record };
  }
  if (peerMetadata !== undefined) {
    // Only the exchange headers to add: a copy of the caller's headers, not a full record.
    let headers = withPeerMetadataHeaders(options.headers, peerMetadata);
    if (headers === undefined) {
      const record = request.toRecord();
      record[PEER_METADATA_HEADER] = peerMetadata.value;
      record[PEER_METADATA_ID_HEADER] = peerMetadata.id;
      headers = record;
    }
    return { ...options, path: rewritten ?? options.path, headers };
  }
  if (rewritten !== undefined) return { ...options, path: rewritten };
  return options;
}
