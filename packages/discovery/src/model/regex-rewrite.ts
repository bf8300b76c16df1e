import type { RegexMatcher } from './string-matcher.ts';

/**
 * type/matcher/v3/regex.proto RegexMatchAndSubstitute: a valid RE2 pattern and a substitution
 * whose every `\` is followed by a digit or another `\`.
 */
export interface RegexRewriteModel {
  readonly pattern: RegexMatcher;
  readonly substitution: string;
}
