/**
 * The matcher compilers as a hand-built matcher meets them: checked first by the decoder's
 * validation (the compilers take valid matchers only), and refused with a MatcherCompileError
 * naming the first issue's path, whose cause lists every issue.
 */
import {
  ConfigError,
  type HeaderMatcher,
  IssueSink,
  type QueryParameterMatcher,
  type RouteMatch,
  type StringMatcher,
  validateHeaderMatcher,
  validateQueryParameterMatcher,
  validateRouteMatch,
  validateStringMatcher,
  validateVirtualHostDomains,
} from '@dabba/discovery';
import {
  compileHeaderMatcher as compileValidHeaderMatcher,
  compileQueryParameterMatcher as compileValidQueryParameterMatcher,
  compileRouteMatch as compileValidRouteMatch,
  compileStringMatcher as compileValidStringMatcher,
  compileVirtualHostIndex as compileValidVirtualHostIndex,
  type RequestMatch,
  type StringMatch,
  type VirtualHostDomains,
  type VirtualHostIndex,
} from '../../src/route/match/index.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';

function check(validate: (sink: IssueSink) => void): void {
  const sink = new IssueSink('test', { kind: 'RouteConfiguration', name: 'test' });
  validate(sink);
  const result = sink.result(undefined);
  if (result.ok) return;
  const first = result.issues[0]!;
  throw new MatcherCompileError(first.path, first.message, { cause: new ConfigError(result.issues) });
}

/** @throws MatcherCompileError */
export function compileStringMatcher(matcher: StringMatcher, path: string): StringMatch {
  check((sink) => validateStringMatcher(matcher, path, sink));
  return compileValidStringMatcher(matcher);
}

/** @throws MatcherCompileError */
export function compileHeaderMatcher(matcher: HeaderMatcher, path: string): RequestMatch {
  check((sink) => validateHeaderMatcher(matcher, path, sink));
  return compileValidHeaderMatcher(matcher);
}

/** @throws MatcherCompileError */
export function compileQueryParameterMatcher(matcher: QueryParameterMatcher, path: string): RequestMatch {
  check((sink) => validateQueryParameterMatcher(matcher, path, sink));
  return compileValidQueryParameterMatcher(matcher);
}

/** @throws MatcherCompileError */
export function compileRouteMatch(match: RouteMatch, path: string): RequestMatch {
  check((sink) => validateRouteMatch(match, path, sink));
  return compileValidRouteMatch(match);
}

/** @throws MatcherCompileError */
export function compileVirtualHostIndex<T extends VirtualHostDomains>(
  vhosts: readonly T[],
  options: { readonly ignorePortInHostMatching?: boolean; readonly path?: string } = {},
): VirtualHostIndex<T> {
  check((sink) => validateVirtualHostDomains(vhosts, options.path ?? 'virtualHosts', sink));
  return compileValidVirtualHostIndex(
    vhosts,
    options.ignorePortInHostMatching === undefined
      ? {}
      : { ignorePortInHostMatching: options.ignorePortInHostMatching },
  );
}
