/**
 * Decoder for a Listener (listener/v3/listener.proto) as the outbound data plane reads it: its
 * port and, for each filter chain with an HttpConnectionManager, the route source and the
 * settings applied before routing (path normalization, request header limits), with Envoy's
 * defaults and the proto's bounds. Filter chains of other network filters (TCP proxy) are not
 * the HTTP data plane's and are left out.
 */
import type { Listener } from '#xds/envoy/config/listener/v3/listener_pb.js';
import {
  HttpConnectionManager_PathWithEscapedSlashesAction as EscapedSlashes,
  type HttpConnectionManager,
  HttpConnectionManagerSchema,
} from '#xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type {
  EscapedSlashesAction,
  HttpConnectionManagerModel,
  ListenerModel,
  ListenerSettings,
  RouteSource,
} from '../model/listener.ts';
import { decodeAny } from '../xds/codec.ts';
import { type Decoded, IssueSink } from './decoded.ts';
import { deepFreeze } from './deep-freeze.ts';
import { decodeRouteConfiguration } from './route-configuration.ts';

const HCM_TYPE = `type.googleapis.com/${HttpConnectionManagerSchema.typeName}`;

/**
 * Envoy's defaults (envoy/http/codec_runtime_overrides.h): 60 KiB of request headers, request
 * target included (http1 codec getHeadersSize), and 100 headers. Istio keeps them.
 */
const DEFAULT_MAX_REQUEST_HEADERS_KB = 60;
const DEFAULT_MAX_HEADERS_COUNT = 100;
/** `max_request_headers_kb`: gt 0, lte 8192 (http_connection_manager.proto). */
const MAX_REQUEST_HEADERS_KB = 8192;

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

function settingsOf(hcm: HttpConnectionManager, path: string, sink: IssueSink): ListenerSettings {
  const kb = hcm.maxRequestHeadersKb;
  if (kb !== undefined && !(kb > 0 && kb <= MAX_REQUEST_HEADERS_KB))
    sink.add(`${path}.max_request_headers_kb`, `must be within 1 and ${MAX_REQUEST_HEADERS_KB}, got ${kb}`);
  const count = hcm.commonHttpProtocolOptions?.maxHeadersCount;
  if (count !== undefined && count < 1)
    sink.add(`${path}.common_http_protocol_options.max_headers_count`, `must be at least 1, got ${count}`);
  return {
    pathNormalization: {
      // Unset normalize_path takes the runtime default, false.
      normalizePath: hcm.normalizePath === true,
      mergeSlashes: hcm.mergeSlashes,
      escapedSlashes: escapedSlashesAction(hcm.pathWithEscapedSlashesAction),
    },
    maxRequestHeadersBytes: (kb ?? DEFAULT_MAX_REQUEST_HEADERS_KB) * 1024,
    maxHeadersCount: count ?? DEFAULT_MAX_HEADERS_COUNT,
  };
}

function routesOf(
  hcm: HttpConnectionManager,
  listenerName: string,
  path: string,
  sink: IssueSink,
): RouteSource | undefined {
  const spec = hcm.routeSpecifier;
  switch (spec.case) {
    case 'rds':
      return { kind: 'rds', name: spec.value.routeConfigName };
    case 'routeConfig': {
      const decoded = decodeRouteConfiguration(spec.value, sink.source);
      if (!decoded.ok) {
        sink.addAll(decoded.issues, `${path}.route_config`);
        return undefined;
      }
      return { kind: 'inline', name: spec.value.name || listenerName, config: decoded.value };
    }
    case 'scopedRoutes':
      sink.add(`${path}.scoped_routes`, 'scoped routes are not supported by Dabba');
      return undefined;
    default:
      sink.add(path, 'one of rds, route_config or scoped_routes is required');
      return undefined;
  }
}

/** Decodes a Listener, or every issue with its field path. */
export function decodeListener(listener: Listener, source: string): Decoded<ListenerModel> {
  const sink = new IssueSink(source, { kind: 'Listener', name: listener.name });
  const address = listener.address?.address;
  const port =
    address?.case === 'socketAddress' && address.value.portSpecifier.case === 'portValue'
      ? address.value.portSpecifier.value
      : undefined;
  const http: HttpConnectionManagerModel[] = [];
  listener.filterChains.forEach((chain, c) => {
    chain.filters.forEach((filter, f) => {
      // Envoy picks a filter's factory by its typed config's type.
      if (filter.configType.case !== 'typedConfig' || filter.configType.value.typeUrl !== HCM_TYPE) return;
      const path = `filter_chains[${c}].filters[${f}].typed_config`;
      const hcm = decodeAny(filter.configType.value, HttpConnectionManagerSchema);
      const settings = settingsOf(hcm, path, sink);
      const routes = routesOf(hcm, listener.name, path, sink);
      if (routes !== undefined) http.push({ routes, settings });
    });
  });
  return sink.result(deepFreeze({ name: listener.name, port, http }));
}
