import type { QueryParameterMatcher as XdsQueryParameterMatcher } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { QueryParameterMatcher } from '../model/query-parameter-matcher.ts';
import type { IssueSink } from './decoded.ts';
import { stringMatcherFromXds, validateStringMatcher } from './string-matcher.ts';

/**
 * Checks a QueryParameterMatcher (decoded, or built by hand): a name, at most one of
 * `stringMatch` and `presentMatch`, and a valid StringMatcher.
 *
 * @param path field path of the QueryParameterMatcher.
 */
export function validateQueryParameterMatcher(
  matcher: QueryParameterMatcher,
  path: string,
  sink: IssueSink,
): void {
  if (typeof matcher.name !== 'string' || matcher.name.length === 0)
    sink.add(`${path}.name`, 'query parameter name is required');
  if (matcher.stringMatch !== undefined && matcher.presentMatch !== undefined) {
    sink.add(path, 'only one of stringMatch, presentMatch may be set');
    return;
  }
  if (matcher.stringMatch !== undefined)
    validateStringMatcher(matcher.stringMatch, `${path}.stringMatch`, sink);
}

/** The model of an xDS QueryParameterMatcher, checked by {@link validateQueryParameterMatcher}. */
export function decodeQueryParameterMatcher(
  q: XdsQueryParameterMatcher,
  path: string,
  sink: IssueSink,
): QueryParameterMatcher {
  const matcher = queryParameterMatcherFromXds(q, path, sink);
  validateQueryParameterMatcher(matcher, path, sink);
  return matcher;
}

function queryParameterMatcherFromXds(
  q: XdsQueryParameterMatcher,
  path: string,
  sink: IssueSink,
): QueryParameterMatcher {
  const s = q.queryParameterMatchSpecifier;
  switch (s.case) {
    case undefined:
      return { name: q.name };
    case 'presentMatch':
      return { name: q.name, presentMatch: s.value };
    case 'stringMatch': {
      const stringMatch = stringMatcherFromXds(s.value, `${path}.stringMatch`, sink);
      return stringMatch === undefined ? { name: q.name } : { name: q.name, stringMatch };
    }
  }
}
