import type { HeaderMatcher as XdsHeaderMatcher } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { HeaderMatcher, Int64Range } from '../model/header-matcher.ts';
import type { IssueSink } from './decoded.ts';
import { validateRegexMatcher } from './regex-matcher.ts';
import { stringMatcherFromXds, validateStringMatcher } from './string-matcher.ts';

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

/**
 * Checks a HeaderMatcher (decoded, or built by hand) as Envoy's proto validation does: a name,
 * at most one match specifier, valid RE2, int64 range bounds, non-empty prefix, suffix and
 * contains values, and a valid nested StringMatcher.
 *
 * @param path field path of the HeaderMatcher.
 */
export function validateHeaderMatcher(matcher: HeaderMatcher, path: string, sink: IssueSink): void {
  if (typeof matcher.name !== 'string' || matcher.name.length === 0)
    sink.add(`${path}.name`, 'header name is required');
  const set = SPECIFIERS.filter((k) => matcher[k] !== undefined);
  if (set.length > 1) {
    sink.add(path, `only one header match specifier may be set, got ${set.join(', ')}`);
    return;
  }
  if (matcher.safeRegexMatch !== undefined)
    validateRegexMatcher(matcher.safeRegexMatch, `${path}.safeRegexMatch`, sink);
  if (matcher.rangeMatch !== undefined) validateRange(matcher.rangeMatch, `${path}.rangeMatch`, sink);
  if (matcher.prefixMatch === '') sink.add(`${path}.prefixMatch`, 'must not be empty');
  if (matcher.suffixMatch === '') sink.add(`${path}.suffixMatch`, 'must not be empty');
  if (matcher.containsMatch === '') sink.add(`${path}.containsMatch`, 'must not be empty');
  if (matcher.stringMatch !== undefined)
    validateStringMatcher(matcher.stringMatch, `${path}.stringMatch`, sink);
}

function validateRange(range: Int64Range, path: string, sink: IssueSink): void {
  validateInt64(range.start ?? 0, `${path}.start`, sink);
  validateInt64(range.end ?? 0, `${path}.end`, sink);
}

function validateInt64(value: number | bigint | string, path: string, sink: IssueSink): void {
  let n: bigint;
  try {
    n = typeof value === 'number' ? BigInt(Math.trunc(value)) : BigInt(value);
  } catch {
    sink.add(path, `not an int64: ${String(value)}`);
    return;
  }
  if (n < INT64_MIN || n > INT64_MAX) sink.add(path, `out of int64 range: ${n}`);
}

/** The model of an xDS HeaderMatcher, checked by {@link validateHeaderMatcher}. */
export function decodeHeaderMatcher(h: XdsHeaderMatcher, path: string, sink: IssueSink): HeaderMatcher {
  const matcher = headerMatcherFromXds(h, path, sink);
  validateHeaderMatcher(matcher, path, sink);
  return matcher;
}

function headerMatcherFromXds(h: XdsHeaderMatcher, path: string, sink: IssueSink): HeaderMatcher {
  const base = {
    name: h.name,
    invertMatch: h.invertMatch,
    treatMissingHeaderAsEmpty: h.treatMissingHeaderAsEmpty,
  };
  const s = h.headerMatchSpecifier;
  switch (s.case) {
    case undefined:
      return base;
    case 'exactMatch':
      return { ...base, exactMatch: s.value };
    case 'safeRegexMatch':
      return { ...base, safeRegexMatch: { regex: s.value.regex } };
    case 'rangeMatch':
      return { ...base, rangeMatch: { start: s.value.start, end: s.value.end } };
    case 'presentMatch':
      return { ...base, presentMatch: s.value };
    case 'prefixMatch':
      return { ...base, prefixMatch: s.value };
    case 'suffixMatch':
      return { ...base, suffixMatch: s.value };
    case 'containsMatch':
      return { ...base, containsMatch: s.value };
    case 'stringMatch': {
      const stringMatch = stringMatcherFromXds(s.value, `${path}.stringMatch`, sink);
      return stringMatch === undefined ? base : { ...base, stringMatch };
    }
  }
}
