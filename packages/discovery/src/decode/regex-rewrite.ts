import type { RegexMatchAndSubstitute } from '#xds/envoy/type/matcher/v3/regex_pb.js';
import type { RegexRewriteModel } from '../model/regex-rewrite.ts';
import type { IssueSink } from './decoded.ts';
import { re2Problem } from './re2.ts';

/**
 * A RegexMatchAndSubstitute, checked as Envoy's Regex::Utility does: the pattern is required
 * and valid RE2; in the substitution (RE2 syntax) a `\` is followed by a digit or another `\`.
 *
 * @param path field path of the RegexMatchAndSubstitute.
 */
export function decodeRegexRewrite(
  spec: RegexMatchAndSubstitute,
  path: string,
  sink: IssueSink,
): RegexRewriteModel {
  const regex = spec.pattern?.regex ?? '';
  if (regex.length === 0) sink.add(`${path}.pattern.regex`, 'regex is required');
  else {
    const problem = re2Problem(regex);
    if (problem !== undefined) sink.add(`${path}.pattern.regex`, `invalid RE2 regex: ${problem}`);
  }
  const offset = badEscapeOffset(spec.substitution);
  if (offset !== undefined)
    sink.add(
      `${path}.substitution`,
      `invalid rewrite pattern at offset ${offset}: "\\" must be followed by a digit or "\\"`,
    );
  return { pattern: { regex }, substitution: spec.substitution };
}

/** Where the first `\` not followed by a digit or `\` is, if any. */
function badEscapeOffset(substitution: string): number | undefined {
  for (let i = 0; i < substitution.length; i++) {
    if (substitution[i] !== '\\') continue;
    const next = substitution[i + 1];
    if (next !== '\\' && (next === undefined || next < '0' || next > '9')) return i;
    i++;
  }
  return undefined;
}
