/**
 * A Listener as the outbound data plane uses it: the port it stands for and, per HTTP filter
 * chain, what its HttpConnectionManager decides before routing and where its routes come from.
 * Free of protobuf types; frozen. Made by decodeListener (decode/listener.ts).
 */
import type { RouteConfigurationModel } from './route-configuration.ts';

/** `path_with_escaped_slashes_action` (http_connection_manager.proto). */
export type EscapedSlashesAction =
  | 'KEEP_UNCHANGED'
  | 'REJECT_REQUEST'
  | 'UNESCAPE_AND_REDIRECT'
  | 'UNESCAPE_AND_FORWARD';

/** A listener's path settings, from its HttpConnectionManager. */
export interface PathNormalization {
  readonly normalizePath: boolean;
  readonly mergeSlashes: boolean;
  readonly escapedSlashes: EscapedSlashesAction;
}

/** What an HttpConnectionManager checks before routing. */
export interface ListenerSettings {
  readonly pathNormalization: PathNormalization;
  /** `max_request_headers_kb` in bytes. */
  readonly maxRequestHeadersBytes: number;
  /** `common_http_protocol_options.max_headers_count`. */
  readonly maxHeadersCount: number;
}

/** Where an HttpConnectionManager's routes come from. */
export type RouteSource =
  | { readonly kind: 'rds'; readonly name: string }
  | { readonly kind: 'inline'; readonly name: string; readonly config: RouteConfigurationModel };

/** One filter chain's HttpConnectionManager. */
export interface HttpConnectionManagerModel {
  readonly routes: RouteSource;
  readonly settings: ListenerSettings;
}

export interface ListenerModel {
  readonly name: string;
  /** The port of a socket address; undefined for other addresses (nothing is routed by them). */
  readonly port: number | undefined;
  /** The HTTP filter chains, in order; empty for a listener of TCP filters only. */
  readonly http: readonly HttpConnectionManagerModel[];
}
