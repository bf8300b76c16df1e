/**
 * envoy/type/matcher/v3/regex.proto RegexMatcher. Only `regex` matters: `google_re2` is
 * deprecated and Envoy's engine is RE2 either way.
 */
export interface RegexMatcher {
  readonly regex: string;
}

/**
 * envoy/type/matcher/v3/string.proto StringMatcher, field for field in camelCase. Exactly one of
 * `exact`, `prefix`, `suffix`, `contains`, `safeRegex` is set (`custom` is not supported).
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
