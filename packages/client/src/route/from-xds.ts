import type {
  HeaderMatcher as XdsHeaderMatcher,
  QueryParameterMatcher as XdsQueryParameterMatcher,
  RouteMatch as XdsRouteMatch,
  StringMatcher as XdsStringMatcher,
} from '@dabba/discovery';
import {
  type FractionalPercentDenominator,
  type HeaderMatcher,
  MatcherCompileError,
  type QueryParameterMatcher,
  type RouteMatch,
  type StringMatcher,
} from './match/index.ts';

// protobuf-es represents oneofs as `{ case, value }`; the matchers take plain camelCase mirrors
// of the xDS fields with at most one specifier set. These functions are the only place that
// knows both shapes. Fields Dabba cannot honour are rejected, never ignored: ignoring a match
// condition would make a route match more traffic than the operator asked for.

/**
 * Plain {@link RouteMatch} for an xDS RouteMatch.
 *
 * @param path field path of the RouteMatch, used in errors.
 * @throws MatcherCompileError on a missing path specifier or an unsupported field
 *   (connect_matcher, path_match_policy, tls_context, dynamic_metadata, custom string matchers).
 */
export function routeMatchFromXds(m: XdsRouteMatch | undefined, path: string): RouteMatch {
  if (m === undefined) throw new MatcherCompileError(path, 'match is required');
  const out: {
    -readonly [K in keyof RouteMatch]: RouteMatch[K];
  } = {};
  const spec = m.pathSpecifier;
  switch (spec.case) {
    case 'prefix':
      out.prefix = spec.value;
      break;
    case 'path':
      out.path = spec.value;
      break;
    case 'safeRegex':
      out.safeRegex = { regex: spec.value.regex };
      break;
    case 'pathSeparatedPrefix':
      out.pathSeparatedPrefix = spec.value;
      break;
    case undefined:
      throw new MatcherCompileError(
        path,
        'exactly one of prefix, path, safeRegex, pathSeparatedPrefix is required',
      );
    default:
      throw new MatcherCompileError(`${path}.${spec.case}`, 'not supported by Dabba');
  }
  if (m.caseSensitive !== undefined) out.caseSensitive = m.caseSensitive;
  if (m.headers.length > 0)
    out.headers = m.headers.map((h, i) => headerMatcherFromXds(h, `${path}.headers[${i}]`));
  if (m.queryParameters.length > 0) {
    out.queryParameters = m.queryParameters.map((q, i) =>
      queryParameterMatcherFromXds(q, `${path}.queryParameters[${i}]`),
    );
  }
  if (m.grpc !== undefined) out.grpc = {};
  if (m.runtimeFraction !== undefined) {
    const dv = m.runtimeFraction.defaultValue;
    out.runtimeFraction =
      dv === undefined
        ? {}
        : {
            defaultValue: {
              numerator: dv.numerator,
              denominator: dv.denominator as FractionalPercentDenominator,
            },
          };
  }
  if (m.tlsContext !== undefined)
    throw new MatcherCompileError(`${path}.tlsContext`, 'not supported by Dabba');
  if (m.dynamicMetadata.length > 0) {
    throw new MatcherCompileError(`${path}.dynamicMetadata`, 'not supported by Dabba');
  }
  return out;
}

/** Plain {@link HeaderMatcher} for an xDS HeaderMatcher. */
export function headerMatcherFromXds(h: XdsHeaderMatcher, path: string): HeaderMatcher {
  const base = {
    name: h.name,
    invertMatch: h.invertMatch,
    treatMissingHeaderAsEmpty: h.treatMissingHeaderAsEmpty,
  };
  const s = h.headerMatchSpecifier;
  switch (s.case) {
    case undefined:
      return base;
    case 'exactMatch':
      return { ...base, exactMatch: s.value };
    case 'safeRegexMatch':
      return { ...base, safeRegexMatch: { regex: s.value.regex } };
    case 'rangeMatch':
      return { ...base, rangeMatch: { start: s.value.start, end: s.value.end } };
    case 'presentMatch':
      return { ...base, presentMatch: s.value };
    case 'prefixMatch':
      return { ...base, prefixMatch: s.value };
    case 'suffixMatch':
      return { ...base, suffixMatch: s.value };
    case 'containsMatch':
      return { ...base, containsMatch: s.value };
    case 'stringMatch':
      return { ...base, stringMatch: stringMatcherFromXds(s.value, `${path}.stringMatch`) };
  }
}

/** Plain {@link QueryParameterMatcher} for an xDS QueryParameterMatcher. */
export function queryParameterMatcherFromXds(
  q: XdsQueryParameterMatcher,
  path: string,
): QueryParameterMatcher {
  const s = q.queryParameterMatchSpecifier;
  switch (s.case) {
    case undefined:
      return { name: q.name };
    case 'presentMatch':
      return { name: q.name, presentMatch: s.value };
    case 'stringMatch':
      return { name: q.name, stringMatch: stringMatcherFromXds(s.value, `${path}.stringMatch`) };
  }
}

/** Plain {@link StringMatcher} for an xDS StringMatcher; `custom` is rejected. */
export function stringMatcherFromXds(m: XdsStringMatcher, path: string): StringMatcher {
  const ignoreCase = m.ignoreCase;
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact':
      return { exact: p.value, ignoreCase };
    case 'prefix':
      return { prefix: p.value, ignoreCase };
    case 'suffix':
      return { suffix: p.value, ignoreCase };
    case 'contains':
      return { contains: p.value, ignoreCase };
    case 'safeRegex':
      // ignoreCase with safe_regex is an error; pass it on only when set so the matcher says so.
      return ignoreCase
        ? { safeRegex: { regex: p.value.regex }, ignoreCase }
        : { safeRegex: { regex: p.value.regex } };
    case 'custom':
      throw new MatcherCompileError(`${path}.custom`, 'not supported by Dabba');
    case undefined:
      throw new MatcherCompileError(
        path,
        'exactly one of exact, prefix, suffix, contains, safeRegex is required',
      );
  }
}
