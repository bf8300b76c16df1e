import type { HeaderMatcher, Int64Range } from '@dabba/discovery';
import type { MatchContext } from './match-context.ts';
import { compileSafeRegex } from './safe-regex.ts';
import { compileStringMatcher, type StringMatch } from './string-matcher.ts';

/** A compiled matcher over the per-request context. */
export type RequestMatch = (ctx: MatchContext) => boolean;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^[+-]?[0-9]+$/;

/**
 * Compiles a HeaderMatcher (route_components.proto; valid: decoded, or checked with
 * validateHeaderMatcher) to a predicate over the request.
 *
 * Envoy semantics:
 * - the value is all of the header's values joined with `,` (HeaderUtility::getAllOfHeaderAsString);
 * - header absent and `treatMissingHeaderAsEmpty` false: no match, even with `invertMatch`
 *   (proto doc: "the header matcher rule ... will be ignored so it will not match");
 * - header absent and `treatMissingHeaderAsEmpty` true: matched as `''`, then inverted if asked;
 * - `presentMatch: true|false` tests presence|absence; `invertMatch` flips it; it ignores
 *   `treatMissingHeaderAsEmpty` (Envoy's present matcher does not share the missing-header path);
 * - deprecated `exactMatch: ''` matches any present value (HeaderDataExactMatch); use
 *   `stringMatch: { exact: '' }` to require an empty value;
 * - `rangeMatch` needs the whole value to be a base-10 int64 with optional sign, `[start, end)`;
 * - `safeRegexMatch` must match the whole value.
 */
export function compileHeaderMatcher(matcher: HeaderMatcher): RequestMatch {
  const name = matcher.name.toLowerCase();
  const invert = matcher.invertMatch === true;

  const test = compileValueTest(matcher);
  if (test === undefined) {
    // Present iff expected XOR inverted; one comparison per request.
    const wantPresent = (matcher.presentMatch ?? true) !== invert;
    return (ctx) => (ctx.header(name) !== undefined) === wantPresent;
  }

  const missingAsEmpty = matcher.treatMissingHeaderAsEmpty === true;
  // A missing header never matches unless treated as empty, so that outcome is fixed at compile time.
  const missingResult = missingAsEmpty ? test('') !== invert : false;
  if (invert) {
    return (ctx) => {
      const v = ctx.header(name);
      return v === undefined ? missingResult : !test(v);
    };
  }
  return (ctx) => {
    const v = ctx.header(name);
    return v === undefined ? missingResult : test(v);
  };
}

/** The test on the header's value; undefined for a presence test (presentMatch, or no specifier). */
function compileValueTest(m: HeaderMatcher): StringMatch | undefined {
  if (m.exactMatch !== undefined) {
    const exact = m.exactMatch;
    return exact.length === 0 ? () => true : (v) => v === exact;
  }
  if (m.safeRegexMatch !== undefined) return compileSafeRegex(m.safeRegexMatch);
  if (m.rangeMatch !== undefined) return compileRange(m.rangeMatch);
  if (m.prefixMatch !== undefined) {
    const prefix = m.prefixMatch;
    return (v) => v.startsWith(prefix);
  }
  if (m.suffixMatch !== undefined) {
    const suffix = m.suffixMatch;
    return (v) => v.endsWith(suffix);
  }
  if (m.containsMatch !== undefined) {
    const needle = m.containsMatch;
    return (v) => v.includes(needle);
  }
  if (m.stringMatch !== undefined) return compileStringMatcher(m.stringMatch);
  return undefined;
}

function compileRange(range: Int64Range): StringMatch {
  const start = toInt64(range.start ?? 0);
  const end = toInt64(range.end ?? 0);
  // Number bounds keep the common case (short values) free of BigInt. For |v| < 2^53 comparing
  // against the double nearest a bound gives the same answer as comparing against the bound.
  const startN = Number(start);
  const endN = Number(end);
  return (v) => {
    if (!DECIMAL.test(v)) return false;
    const digits = v.charCodeAt(0) === 43 || v.charCodeAt(0) === 45 ? v.length - 1 : v.length;
    if (digits <= 15) {
      const n = Number(v);
      return n >= startN && n < endN;
    }
    const n = BigInt(v);
    return n >= INT64_MIN && n <= INT64_MAX && n >= start && n < end;
  };
}

function toInt64(value: number | bigint | string): bigint {
  return typeof value === 'number' ? BigInt(Math.trunc(value)) : BigInt(value);
}
