import type { RegexMatcher, StringMatcher } from './string-matcher.ts';

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
