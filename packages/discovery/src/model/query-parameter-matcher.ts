import type { StringMatcher } from './string-matcher.ts';

/**
 * route_components.proto QueryParameterMatcher, in camelCase: `name` and at most one of
 * `stringMatch`, `presentMatch`.
 */
export interface QueryParameterMatcher {
  readonly name: string;
  readonly stringMatch?: StringMatcher;
  readonly presentMatch?: boolean;
}
