import type { MatchContext } from './match-context.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';
import { compileSafeRegex, type RegexMatcher } from './safe-regex.ts';
import { compileStringMatcher, type StringMatch, type StringMatcher } from './string-matcher.ts';

/** envoy/type/v3/range.proto Int64Range: `[start, end)`. int64 may arrive as string or bigint. */
export interface Int64Range {
  readonly start?: number | bigint | string;
  readonly end?: number | bigint | string;
}

/**
 * envoy/config/route/v3/route_components.proto HeaderMatcher, field for field in camelCase.
 * At most one match specifier; none means `presentMatch: true`.
 */
export interface HeaderMatcher {
  /** Header name; matched lowercased. Use `:authority` for Host, `:method` for the method. */
  readonly name: string;
  readonly exactMatch?: string;
  readonly safeRegexMatch?: RegexMatcher;
  readonly rangeMatch?: Int64Range;
  readonly presentMatch?: boolean;
  readonly prefixMatch?: string;
  readonly suffixMatch?: string;
  readonly containsMatch?: string;
  readonly stringMatch?: StringMatcher;
  readonly invertMatch?: boolean;
  readonly treatMissingHeaderAsEmpty?: boolean;
}

/** A compiled matcher over the per-request context. */
export type RequestMatch = (ctx: MatchContext) => boolean;

const SPECIFIERS = [
  'exactMatch',
  'safeRegexMatch',
  'rangeMatch',
  'presentMatch',
  'prefixMatch',
  'suffixMatch',
  'containsMatch',
  'stringMatch',
] as const;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const DECIMAL = /^[+-]?[0-9]+$/;

/**
 * Compiles a HeaderMatcher (route_components.proto) to a predicate over the request.
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
 *
 * @param path field path of this HeaderMatcher, used in errors.
 * @throws MatcherCompileError
 */
export function compileHeaderMatcher(matcher: HeaderMatcher, path: string): RequestMatch {
  if (typeof matcher.name !== 'string' || matcher.name.length === 0) {
    throw new MatcherCompileError(`${path}.name`, 'header name is required');
  }
  const name = matcher.name.toLowerCase();
  const set = SPECIFIERS.filter((k) => matcher[k] !== undefined);
  if (set.length > 1) {
    throw new MatcherCompileError(path, `only one header match specifier may be set, got ${set.join(', ')}`);
  }
  const invert = matcher.invertMatch === true;

  if (set.length === 0 || matcher.presentMatch !== undefined) {
    // Present iff expected XOR inverted; one comparison per request.
    const wantPresent = (matcher.presentMatch ?? true) !== invert;
    return (ctx) => (ctx.header(name) !== undefined) === wantPresent;
  }

  const test = compileValueTest(matcher, path);
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

function compileValueTest(m: HeaderMatcher, path: string): StringMatch {
  if (m.exactMatch !== undefined) {
    const exact = m.exactMatch;
    return exact.length === 0 ? () => true : (v) => v === exact;
  }
  if (m.safeRegexMatch !== undefined) return compileSafeRegex(m.safeRegexMatch, `${path}.safeRegexMatch`);
  if (m.rangeMatch !== undefined) return compileRange(m.rangeMatch, `${path}.rangeMatch`);
  if (m.prefixMatch !== undefined) {
    const prefix = nonEmpty(m.prefixMatch, `${path}.prefixMatch`);
    return (v) => v.startsWith(prefix);
  }
  if (m.suffixMatch !== undefined) {
    const suffix = nonEmpty(m.suffixMatch, `${path}.suffixMatch`);
    return (v) => v.endsWith(suffix);
  }
  if (m.containsMatch !== undefined) {
    const needle = nonEmpty(m.containsMatch, `${path}.containsMatch`);
    return (v) => v.includes(needle);
  }
  return compileStringMatcher(m.stringMatch as StringMatcher, `${path}.stringMatch`);
}

function compileRange(range: Int64Range, path: string): StringMatch {
  const start = toInt64(range.start ?? 0, `${path}.start`);
  const end = toInt64(range.end ?? 0, `${path}.end`);
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

function toInt64(value: number | bigint | string, path: string): bigint {
  let n: bigint;
  try {
    n = typeof value === 'number' ? BigInt(Math.trunc(value)) : BigInt(value);
  } catch (cause) {
    throw new MatcherCompileError(path, `not an int64: ${String(value)}`, { cause });
  }
  if (n < INT64_MIN || n > INT64_MAX) throw new MatcherCompileError(path, `out of int64 range: ${n}`);
  return n;
}

function nonEmpty(value: string, path: string): string {
  if (value.length === 0) throw new MatcherCompileError(path, 'must not be empty');
  return value;
}
