import type { RouteMatch as XdsRouteMatch } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { RuntimeFractionalPercent } from '../model/fractional-percent.ts';
import type { RouteMatch } from '../model/route-match.ts';
import type { IssueSink } from './decoded.ts';
import { denominatorName } from './fractional-percent.ts';
import { decodeHeaderMatcher, validateHeaderMatcher } from './header-matcher.ts';
import { decodeQueryParameterMatcher, validateQueryParameterMatcher } from './query-parameter-matcher.ts';
import { validateRegexMatcher } from './regex-matcher.ts';

const PATH_SPECIFIERS = ['prefix', 'path', 'safeRegex', 'pathSeparatedPrefix'] as const;
// route_components.proto validation for path_separated_prefix.
const PATH_SEPARATED_PREFIX = /^[^?#]+[^?#/]$/;
const DENOMINATORS = new Set(['HUNDRED', 'TEN_THOUSAND', 'MILLION']);

/**
 * Checks a RouteMatch (decoded, or built by hand) as Envoy's proto validation does: exactly one
 * path specifier, a well-formed `pathSeparatedPrefix`, valid RE2, valid header and query
 * parameter matchers, and a runtime fraction with a non-negative integer numerator.
 *
 * @param path field path of the RouteMatch.
 */
export function validateRouteMatch(match: RouteMatch, path: string, sink: IssueSink): void {
  validatePathSpecifier(match, path, sink);
  validateConditions(match, path, sink);
}

function validatePathSpecifier(match: RouteMatch, path: string, sink: IssueSink): void {
  const set = PATH_SPECIFIERS.filter((k) => match[k] !== undefined);
  if (set.length !== 1) {
    sink.add(
      path,
      set.length === 0
        ? 'exactly one of prefix, path, safeRegex, pathSeparatedPrefix is required'
        : `only one path specifier may be set, got ${set.join(', ')}`,
    );
    return;
  }
  if (match.safeRegex !== undefined) validateRegexMatcher(match.safeRegex, `${path}.safeRegex`, sink);
  if (match.pathSeparatedPrefix !== undefined && !PATH_SEPARATED_PREFIX.test(match.pathSeparatedPrefix))
    sink.add(`${path}.pathSeparatedPrefix`, 'must be non-empty, contain no ? or #, and not end in /');
}

/** Everything but the path: headers, query parameters, runtime fraction. */
function validateConditions(match: RouteMatch, path: string, sink: IssueSink): void {
  match.headers?.forEach((h, i) => {
    validateHeaderMatcher(h, `${path}.headers[${i}]`, sink);
  });
  match.queryParameters?.forEach((q, i) => {
    validateQueryParameterMatcher(q, `${path}.queryParameters[${i}]`, sink);
  });
  if (match.runtimeFraction !== undefined)
    validateRuntimeFraction(match.runtimeFraction, `${path}.runtimeFraction`, sink);
}

function validateRuntimeFraction(fraction: RuntimeFractionalPercent, path: string, sink: IssueSink): void {
  const value = fraction.defaultValue ?? {};
  const numerator = value.numerator ?? 0;
  if (!Number.isInteger(numerator) || numerator < 0)
    sink.add(`${path}.defaultValue.numerator`, 'must be a non-negative integer');
  if (!DENOMINATORS.has(value.denominator ?? 'HUNDRED'))
    sink.add(`${path}.defaultValue.denominator`, 'unknown denominator');
}

/**
 * The model of an xDS RouteMatch, checked by {@link validateRouteMatch}; undefined when there
 * is no match. Fields Dabba cannot honour are refused, never ignored: ignoring a match condition
 * would make a route match more traffic than the operator asked for.
 *
 * @param path field path of the RouteMatch.
 */
export function decodeRouteMatch(
  m: XdsRouteMatch | undefined,
  path: string,
  sink: IssueSink,
): RouteMatch | undefined {
  if (m === undefined) {
    sink.add(path, 'match is required');
    return undefined;
  }
  const out: { -readonly [K in keyof RouteMatch]: RouteMatch[K] } = {};
  const spec = m.pathSpecifier;
  let supportedPath = true;
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
      break;
    default:
      sink.add(`${path}.${spec.case}`, 'not supported by Dabba');
      supportedPath = false;
  }
  // An unsupported path specifier is reported once, not again as a missing one.
  if (supportedPath) validatePathSpecifier(out, path, sink);
  if (m.caseSensitive !== undefined) out.caseSensitive = m.caseSensitive;
  if (m.headers.length > 0)
    out.headers = m.headers.map((h, i) => decodeHeaderMatcher(h, `${path}.headers[${i}]`, sink));
  if (m.queryParameters.length > 0)
    out.queryParameters = m.queryParameters.map((q, i) =>
      decodeQueryParameterMatcher(q, `${path}.queryParameters[${i}]`, sink),
    );
  if (m.grpc !== undefined) out.grpc = {};
  if (m.runtimeFraction !== undefined) {
    // The numerator is a uint32, valid as it is; only an enum number can be out of range.
    const dv = m.runtimeFraction.defaultValue;
    if (dv === undefined) out.runtimeFraction = {};
    else {
      const denominator = denominatorName(dv.denominator);
      if (denominator === undefined)
        sink.add(`${path}.runtimeFraction.defaultValue.denominator`, 'unknown denominator');
      out.runtimeFraction = {
        defaultValue:
          denominator === undefined ? { numerator: dv.numerator } : { numerator: dv.numerator, denominator },
      };
    }
  }
  if (m.tlsContext !== undefined) sink.add(`${path}.tlsContext`, 'not supported by Dabba');
  if (m.dynamicMetadata.length > 0) sink.add(`${path}.dynamicMetadata`, 'not supported by Dabba');
  return out;
}
