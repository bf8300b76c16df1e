import { asciiLower, endsWithIgnoreCase, equalsIgnoreCase, startsWithIgnoreCase } from './ascii-case.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';
import { compileSafeRegex, type RegexMatcher } from './safe-regex.ts';

/**
 * envoy/type/matcher/v3/string.proto StringMatcher, field for field in camelCase. Exactly one of
 * `exact`, `prefix`, `suffix`, `contains`, `safeRegex` must be set (`custom` is not supported).
 */
export interface StringMatcher {
  readonly exact?: string;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly contains?: string;
  readonly safeRegex?: RegexMatcher;
  /** ASCII case-insensitive exact/prefix/suffix/contains. Envoy rejects it with safe_regex. */
  readonly ignoreCase?: boolean;
}

/** A compiled StringMatcher: a pure predicate on one value. */
export type StringMatch = (value: string) => boolean;

const KINDS = ['exact', 'prefix', 'suffix', 'contains', 'safeRegex'] as const;

/**
 * Compiles a StringMatcher to a predicate.
 *
 * Envoy semantics (string.proto; source/common/common/matchers.h StringMatcherImpl):
 * - `ignoreCase` folds ASCII only, and applies to exact/prefix/suffix/contains;
 * - `ignoreCase` with `safeRegex` is a config error ("ignore_case has no effect for safe_regex.");
 * - `prefix`, `suffix`, `contains` must be non-empty (proto validation min_len 1); `exact` may be "";
 * - `safeRegex` must match the whole value.
 *
 * @param path field path of this StringMatcher, used in errors.
 * @throws MatcherCompileError
 */
export function compileStringMatcher(matcher: StringMatcher, path: string): StringMatch {
  const set = KINDS.filter((k) => matcher[k] !== undefined);
  if (set.length !== 1) {
    throw new MatcherCompileError(
      path,
      set.length === 0
        ? 'exactly one of exact, prefix, suffix, contains, safeRegex is required'
        : `only one of exact, prefix, suffix, contains, safeRegex may be set, got ${set.join(', ')}`,
    );
  }
  const ignoreCase = matcher.ignoreCase === true;
  if (matcher.safeRegex !== undefined) {
    if (ignoreCase) {
      throw new MatcherCompileError(`${path}.ignoreCase`, 'ignore_case has no effect for safe_regex');
    }
    return compileSafeRegex(matcher.safeRegex, `${path}.safeRegex`);
  }
  if (matcher.exact !== undefined) {
    const exact = matcher.exact;
    if (!ignoreCase) return (v) => v === exact;
    const lower = asciiLower(exact);
    return (v) => equalsIgnoreCase(v, lower);
  }
  if (matcher.prefix !== undefined) {
    const prefix = nonEmpty(matcher.prefix, `${path}.prefix`);
    if (!ignoreCase) return (v) => v.startsWith(prefix);
    const lower = asciiLower(prefix);
    return (v) => startsWithIgnoreCase(v, lower);
  }
  if (matcher.suffix !== undefined) {
    const suffix = nonEmpty(matcher.suffix, `${path}.suffix`);
    if (!ignoreCase) return (v) => v.endsWith(suffix);
    const lower = asciiLower(suffix);
    return (v) => endsWithIgnoreCase(v, lower);
  }
  const contains = nonEmpty(matcher.contains as string, `${path}.contains`);
  if (!ignoreCase) return (v) => v.includes(contains);
  // Same as Envoy: lower the value, search for the pre-lowered needle.
  const lower = asciiLower(contains);
  return (v) => asciiLower(v).includes(lower);
}

function nonEmpty(value: string, path: string): string {
  if (value.length === 0) throw new MatcherCompileError(path, 'must not be empty');
  return value;
}
