/**
 * What an outbound listener's HttpConnectionManager decides before routing, compiled once per
 * snapshot: path normalization (route/normalize-path.ts) and the request header limits.
 * Defaults are Envoy's where the listener sets nothing.
 */
import {
  HttpConnectionManager_PathWithEscapedSlashesAction as EscapedSlashes,
  type HttpConnectionManager,
} from '@dabba/discovery';
import type { EscapedSlashesAction, PathNormalization } from '../route/normalize-path.ts';

/**
 * Envoy's defaults (envoy/http/codec_runtime_overrides.h): 60 KiB of request headers, request
 * target included (http1 codec getHeadersSize), and 100 headers. Istio keeps them.
 */
export const DEFAULT_MAX_REQUEST_HEADERS_KB = 60;
export const DEFAULT_MAX_HEADERS_COUNT = 100;

export interface ListenerSettings {
  readonly pathNormalization: PathNormalization;
  /** `max_request_headers_kb` in bytes. */
  readonly maxRequestHeadersBytes: number;
  /** `common_http_protocol_options.max_headers_count`. */
  readonly maxHeadersCount: number;
}

function escapedSlashesAction(action: EscapedSlashes): EscapedSlashesAction {
  switch (action) {
    case EscapedSlashes.REJECT_REQUEST:
      return 'REJECT_REQUEST';
    case EscapedSlashes.UNESCAPE_AND_REDIRECT:
      return 'UNESCAPE_AND_REDIRECT';
    case EscapedSlashes.UNESCAPE_AND_FORWARD:
      return 'UNESCAPE_AND_FORWARD';
    default:
      // IMPLEMENTATION_SPECIFIC_DEFAULT: Envoy keeps the path unchanged.
      return 'KEEP_UNCHANGED';
  }
}

/** The settings of one HttpConnectionManager. */
export function listenerSettingsOf(hcm: HttpConnectionManager): ListenerSettings {
  return Object.freeze({
    pathNormalization: Object.freeze({
      // Unset normalize_path takes the runtime default, false.
      normalizePath: hcm.normalizePath === true,
      mergeSlashes: hcm.mergeSlashes,
      escapedSlashes: escapedSlashesAction(hcm.pathWithEscapedSlashesAction),
    }),
    maxRequestHeadersBytes: (hcm.maxRequestHeadersKb ?? DEFAULT_MAX_REQUEST_HEADERS_KB) * 1024,
    maxHeadersCount: hcm.commonHttpProtocolOptions?.maxHeadersCount ?? DEFAULT_MAX_HEADERS_COUNT,
  });
}
