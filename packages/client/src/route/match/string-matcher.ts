import type { StringMatcher } from '@dabba/discovery';
import { asciiLower, endsWithIgnoreCase, equalsIgnoreCase, startsWithIgnoreCase } from './ascii-case.ts';
import { compileSafeRegex } from './safe-regex.ts';

/** A compiled StringMatcher: a pure predicate on one value. */
export type StringMatch = (value: string) => boolean;

/**
 * Compiles a StringMatcher (valid: decoded, or checked with validateStringMatcher) to a predicate.
 *
 * Envoy semantics (string.proto; source/common/common/matchers.h StringMatcherImpl):
 * - `ignoreCase` folds ASCII only, and applies to exact/prefix/suffix/contains;
 * - `safeRegex` must match the whole value.
 */
export function compileStringMatcher(matcher: StringMatcher): StringMatch {
  const ignoreCase = matcher.ignoreCase === true;
  if (matcher.safeRegex !== undefined) return compileSafeRegex(matcher.safeRegex);
  if (matcher.exact !== undefined) {
    const exact = matcher.exact;
    if (!ignoreCase) return (v) => v === exact;
    const lower = asciiLower(exact);
    return (v) => equalsIgnoreCase(v, lower);
  }
  if (matcher.prefix !== undefined) {
    const prefix = matcher.prefix;
    if (!ignoreCase) return (v) => v.startsWith(prefix);
    const lower = asciiLower(prefix);
    return (v) => startsWithIgnoreCase(v, lower);
  }
  if (matcher.suffix !== undefined) {
    const suffix = matcher.suffix;
    if (!ignoreCase) return (v) => v.endsWith(suffix);
    const lower = asciiLower(suffix);
    return (v) => endsWithIgnoreCase(v, lower);
  }
  const contains = matcher.contains as string;
  if (!ignoreCase) return (v) => v.includes(contains);
  // Same as Envoy: lower the value, search for the pre-lowered needle.
  const lower = asciiLower(contains);
  return (v) => asciiLower(v).includes(lower);
}
