import { compileRe2 } from '@dabba/discovery';
import type { RE2JS } from 're2js';
import { MatcherCompileError } from './matcher-compile-error.ts';

/**
 * envoy/type/matcher/v3/regex.proto RegexMatcher. Only `regex` matters: `google_re2` is
 * deprecated and Envoy's engine is RE2 either way.
 */
export interface RegexMatcher {
  readonly regex: string;
}

/** A compiled RE2 pattern that answers "does it match the WHOLE input" (RE2::FullMatch). */
export type FullMatch = (input: string) => boolean;

/**
 * Compiles an RE2 pattern for full matching, as Envoy's `safe_regex` does everywhere in routing
 * (path, header and query matchers): `/api` matches `/api` but not `/api/v1`.
 * RE2 syntax only: backreferences, lookahead and lookbehind are rejected here, at config time.
 *
 * @param path field path of the RegexMatcher, used in the error.
 * @throws MatcherCompileError when the pattern is missing or not valid RE2.
 */
export function compileSafeRegex(matcher: RegexMatcher | undefined, path: string): FullMatch {
  const regex = matcher?.regex;
  if (typeof regex !== 'string') {
    throw new MatcherCompileError(`${path}.regex`, 'regex is required');
  }
  let re: RE2JS;
  try {
    re = compileRe2(regex);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new MatcherCompileError(`${path}.regex`, `invalid RE2 regex: ${detail}`, { cause });
  }
  // testExact asks for no capture groups, so re2js stays on its DFA fast path.
  return (input) => re.testExact(input);
}
