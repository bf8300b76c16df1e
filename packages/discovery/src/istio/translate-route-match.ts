/**
 * VirtualService match conditions -> Envoy RouteMatch, as istiod translates them
 * (pilot/pkg/networking/core/route/route.go TranslateRouteMatch), and which matches apply to this
 * workload at all (sourceMatchHTTP).
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import type {
  HeaderMatcherSchema,
  QueryParameterMatcherSchema,
  RouteMatchSchema,
} from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { StringMatcherSchema } from '#xds/envoy/type/matcher/v3/string_pb.js';
import type { Workload } from '../workload.ts';
import type { StringMatch } from './schema-common.ts';
import type { IstioHttpMatch } from './virtual-service-schema.ts';

export function stringMatcher(
  m: StringMatch,
  ignoreCase = false,
): MessageInitShape<typeof StringMatcherSchema> | undefined {
  if (m.exact !== undefined) return { matchPattern: { case: 'exact', value: m.exact }, ignoreCase };
  if (m.prefix !== undefined) return { matchPattern: { case: 'prefix', value: m.prefix }, ignoreCase };
  if (m.regex !== undefined) return { matchPattern: { case: 'safeRegex', value: { regex: m.regex } } };
  return undefined;
}

/**
 * Istio canBeConvertedToPresentMatch: an empty StringMatch, or the regex `*` (not valid RE2, kept
 * for compatibility, istio/istio#20629), means "present" for headers and query parameters.
 */
export function isPresentMatch(m: StringMatch): boolean {
  return m.regex === '*' || (m.exact === undefined && m.prefix === undefined && m.regex === undefined);
}

export function headerMatcher(
  name: string,
  m: StringMatch,
  invert: boolean,
): MessageInitShape<typeof HeaderMatcherSchema> {
  const present = isPresentMatch(m);
  const sm = present ? undefined : stringMatcher(m);
  return {
    name: name.toLowerCase(),
    invertMatch: invert,
    // withoutHeaders must also match requests that lack the header: Envoy fails a string match on
    // a missing header before inverting, so istiod sets treat_missing_header_as_empty (route.go
    // TranslateRouteMatch); it conflicts with present_match, which is left without it.
    ...(invert && !present ? { treatMissingHeaderAsEmpty: true } : {}),
    headerMatchSpecifier: sm ? { case: 'stringMatch', value: sm } : { case: 'presentMatch', value: true },
  };
}

export function routeMatch(m: IstioHttpMatch | undefined): MessageInitShape<typeof RouteMatchSchema> {
  const out: MessageInitShape<typeof RouteMatchSchema> = { pathSpecifier: { case: 'prefix', value: '/' } };
  const headers: MessageInitShape<typeof HeaderMatcherSchema>[] = [];
  const queryParameters: MessageInitShape<typeof QueryParameterMatcherSchema>[] = [];
  if (!m) return out;
  if (m.uri) {
    if (m.uri.exact !== undefined) out.pathSpecifier = { case: 'path', value: m.uri.exact };
    else if (m.uri.prefix !== undefined) out.pathSpecifier = { case: 'prefix', value: m.uri.prefix };
    else if (m.uri.regex !== undefined)
      out.pathSpecifier = { case: 'safeRegex', value: { regex: m.uri.regex } };
  }
  if (m.ignoreUriCase) out.caseSensitive = false;
  for (const [name, value] of Object.entries(m.headers ?? {}))
    headers.push(headerMatcher(name, value, false));
  for (const [name, value] of Object.entries(m.withoutHeaders ?? {}))
    headers.push(headerMatcher(name, value, true));
  if (m.authority) headers.push(headerMatcher(':authority', m.authority, false));
  if (m.method) headers.push(headerMatcher(':method', m.method, false));
  if (m.scheme) headers.push(headerMatcher(':scheme', m.scheme, false));
  for (const [name, value] of Object.entries(m.queryParams ?? {})) {
    const sm = isPresentMatch(value) ? undefined : stringMatcher(value);
    queryParameters.push({
      name,
      queryParameterMatchSpecifier: sm
        ? { case: 'stringMatch', value: sm }
        : { case: 'presentMatch', value: true },
    });
  }
  if (headers.length) out.headers = headers;
  if (queryParameters.length) out.queryParameters = queryParameters;
  return out;
}

/**
 * route.go translateRoute and sourceMatchHTTP: a match entry for another port is dropped; one that
 * names gateways applies when they include `mesh` (sourceLabels and sourceNamespace are then not
 * consulted); otherwise sourceLabels must be a subset of the workload's labels and sourceNamespace,
 * when set, its namespace.
 */
/**
 * route.go IsCatchAllRoute: prefix `/` (or regex `*`) with no header or query parameter
 * condition matches every request, so no later route can be reached.
 */
export function isCatchAll(m: MessageInitShape<typeof RouteMatchSchema>): boolean {
  const p = m.pathSpecifier;
  const everyPath =
    (p?.case === 'prefix' && p.value === '/') ||
    (p?.case === 'pathSeparatedPrefix' && p.value === '/') ||
    (p?.case === 'safeRegex' && p.value.regex === '*');
  return everyPath && !m.headers?.length && !m.queryParameters?.length;
}

export function matchAppliesToWorkload(m: IstioHttpMatch, port: number, workload: Workload): boolean {
  if (m.port !== undefined && m.port !== 0 && m.port !== port) return false;
  if (m.gateways && m.gateways.length > 0) return m.gateways.includes('mesh');
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (workload.labels[k] !== v) return false;
  return !m.sourceNamespace || m.sourceNamespace === workload.namespace;
}
