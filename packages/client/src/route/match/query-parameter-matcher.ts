import type { RequestMatch } from './header-matcher.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';
import { compileStringMatcher, type StringMatcher } from './string-matcher.ts';

/**
 * route_components.proto QueryParameterMatcher, in camelCase: `name` and at most one of
 * `stringMatch`, `presentMatch`.
 */
export interface QueryParameterMatcher {
  readonly name: string;
  readonly stringMatch?: StringMatcher;
  readonly presentMatch?: boolean;
}

/**
 * Compiles a QueryParameterMatcher. Envoy (router/config_utility.cc) looks at the FIRST value of
 * the parameter, raw (not percent-decoded):
 * - `presentMatch: b` matches iff (parameter present) === b (the behaviour Envoy enables by
 *   default since 1.34, runtime guard enable_new_query_param_present_match_behavior);
 * - `stringMatch` matches iff present and the value matches;
 * - neither set: matches iff present.
 *
 * @param path field path of this QueryParameterMatcher, used in errors.
 * @throws MatcherCompileError
 */
export function compileQueryParameterMatcher(matcher: QueryParameterMatcher, path: string): RequestMatch {
  const name = matcher.name;
  if (typeof name !== 'string' || name.length === 0) {
    throw new MatcherCompileError(`${path}.name`, 'query parameter name is required');
  }
  if (matcher.stringMatch !== undefined && matcher.presentMatch !== undefined) {
    throw new MatcherCompileError(path, 'only one of stringMatch, presentMatch may be set');
  }
  if (matcher.presentMatch !== undefined) {
    const want = matcher.presentMatch;
    return (ctx) => (ctx.queryParam(name) !== undefined) === want;
  }
  if (matcher.stringMatch === undefined) return (ctx) => ctx.queryParam(name) !== undefined;
  const test = compileStringMatcher(matcher.stringMatch, `${path}.stringMatch`);
  return (ctx) => {
    const v = ctx.queryParam(name);
    return v !== undefined && test(v);
  };
}
