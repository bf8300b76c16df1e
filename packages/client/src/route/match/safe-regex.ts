import type { RegexMatcher } from '@dabba/discovery';
import { compileRe2 } from '@dabba/discovery';

/** A compiled RE2 pattern that answers "does it match the WHOLE input" (RE2::FullMatch). */
export type FullMatch = (input: string) => boolean;

/**
 * Compiles an RE2 pattern for full matching, as Envoy's `safe_regex` does everywhere in routing
 * (path, header and query matchers): `/api` matches `/api` but not `/api/v1`. The pattern was
 * checked by the decoder, which compiled it into the same cache, so this costs a lookup.
 *
 * @throws the RE2 compiler's error when the pattern is not valid RE2 (only a pattern that did
 *   not come through a decoder can be).
 */
export function compileSafeRegex(matcher: RegexMatcher): FullMatch {
  const re = compileRe2(matcher.regex);
  // testExact asks for no capture groups, so re2js stays on its DFA fast path.
  return (input) => re.testExact(input);
}
