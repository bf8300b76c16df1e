import type { QueryParameterMatcher } from '@dabba/discovery';
import type { RequestMatch } from './header-matcher.ts';
import { compileStringMatcher } from './string-matcher.ts';

/**
 * Compiles a QueryParameterMatcher (valid: decoded, or checked with
 * validateQueryParameterMatcher). Envoy (router/config_utility.cc) looks at the FIRST value of
 * the parameter, raw (not percent-decoded):
 * - `presentMatch: b` matches iff (parameter present) === b (the behaviour Envoy enables by
 *   default since 1.34, runtime guard enable_new_query_param_present_match_behavior);
 * - `stringMatch` matches iff present and the value matches;
 * - neither set: matches iff present.
 */
export function compileQueryParameterMatcher(matcher: QueryParameterMatcher): RequestMatch {
  const name = matcher.name;
  if (matcher.presentMatch !== undefined) {
    const want = matcher.presentMatch;
    return (ctx) => (ctx.queryParam(name) !== undefined) === want;
  }
  if (matcher.stringMatch === undefined) return (ctx) => ctx.queryParam(name) !== undefined;
  const test = compileStringMatcher(matcher.stringMatch);
  return (ctx) => {
    const v = ctx.queryParam(name);
    return v !== undefined && test(v);
  };
}
