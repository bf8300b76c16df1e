import type { RegexMatcher } from '../model/string-matcher.ts';
import type { IssueSink } from './decoded.ts';
import { re2Problem } from './re2.ts';

/**
 * Checks a `safe_regex`: the pattern must be valid RE2, as Envoy compiles it (a backreference or
 * a lookaround is refused here rather than becoming a route that never matches).
 *
 * @param path field path of the RegexMatcher.
 */
export function validateRegexMatcher(matcher: RegexMatcher | undefined, path: string, sink: IssueSink): void {
  const regex = matcher?.regex;
  if (typeof regex !== 'string') {
    sink.add(`${path}.regex`, 'regex is required');
    return;
  }
  const problem = re2Problem(regex);
  if (problem !== undefined) sink.add(`${path}.regex`, `invalid RE2 regex: ${problem}`);
}
