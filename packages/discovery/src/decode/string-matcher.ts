import type { StringMatcher as XdsStringMatcher } from '#xds/envoy/type/matcher/v3/string_pb.js';
import type { StringMatcher } from '../model/string-matcher.ts';
import type { IssueSink } from './decoded.ts';
import { validateRegexMatcher } from './regex-matcher.ts';

const KINDS = ['exact', 'prefix', 'suffix', 'contains', 'safeRegex'] as const;
// string.proto validation: min_len 1 for these three; `exact` may be empty.
const NON_EMPTY = ['prefix', 'suffix', 'contains'] as const;

/**
 * Checks a StringMatcher (decoded, or built by hand) as Envoy does (string.proto;
 * common/matchers.h StringMatcherImpl): exactly one pattern; `prefix`, `suffix` and `contains`
 * non-empty; `safeRegex` valid RE2 and not combined with `ignoreCase` ("ignore_case has no effect
 * for safe_regex").
 *
 * @param path field path of the StringMatcher.
 */
export function validateStringMatcher(matcher: StringMatcher, path: string, sink: IssueSink): void {
  const set = KINDS.filter((k) => matcher[k] !== undefined);
  if (set.length !== 1) {
    sink.add(
      path,
      set.length === 0
        ? 'exactly one of exact, prefix, suffix, contains, safeRegex is required'
        : `only one of exact, prefix, suffix, contains, safeRegex may be set, got ${set.join(', ')}`,
    );
    return;
  }
  if (matcher.safeRegex !== undefined) {
    if (matcher.ignoreCase === true)
      sink.add(`${path}.ignoreCase`, 'ignore_case has no effect for safe_regex');
    validateRegexMatcher(matcher.safeRegex, `${path}.safeRegex`, sink);
    return;
  }
  for (const k of NON_EMPTY) if (matcher[k] === '') sink.add(`${path}.${k}`, 'must not be empty');
}

/**
 * The model of an xDS StringMatcher, unchecked (see {@link validateStringMatcher}); undefined
 * for `custom`, which Dabba does not support: ignoring a match condition would match more
 * traffic than the operator asked for.
 */
export function stringMatcherFromXds(
  m: XdsStringMatcher,
  path: string,
  sink: IssueSink,
): StringMatcher | undefined {
  const ignoreCase = m.ignoreCase;
  const p = m.matchPattern;
  switch (p.case) {
    case 'exact':
      return { exact: p.value, ignoreCase };
    case 'prefix':
      return { prefix: p.value, ignoreCase };
    case 'suffix':
      return { suffix: p.value, ignoreCase };
    case 'contains':
      return { contains: p.value, ignoreCase };
    case 'safeRegex':
      return ignoreCase
        ? { safeRegex: { regex: p.value.regex }, ignoreCase }
        : { safeRegex: { regex: p.value.regex } };
    case 'custom':
      sink.add(`${path}.custom`, 'not supported by Dabba');
      return undefined;
    case undefined:
      // Left for validateStringMatcher to report, with the message a hand-built matcher gets.
      return { ignoreCase };
  }
}
