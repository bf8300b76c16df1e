/** config/core/v3/base.proto HeaderValueOption.HeaderAppendAction. */
export type HeaderAppendAction =
  | 'APPEND_IF_EXISTS_OR_ADD'
  | 'ADD_IF_ABSENT'
  | 'OVERWRITE_IF_EXISTS_OR_ADD'
  | 'OVERWRITE_IF_EXISTS';

/**
 * One config/core/v3/base.proto HeaderValueOption: a header to add or overwrite. An option that
 * would add an empty value without `keep_empty_value` does nothing in Envoy and is not listed.
 */
export interface HeaderValueOptionModel {
  /** Header name as configured; never a `:`-prefixed name or `host`. */
  readonly key: string;
  /** The value: `value`, or `raw_value` read as Latin-1 when `value` is empty. No NUL, CR or LF. */
  readonly value: string;
  /** `append_action`, with the deprecated `append` already folded in. */
  readonly appendAction: HeaderAppendAction;
}

/**
 * The four header lists of one level (route configuration, virtual host, route, weighted
 * cluster), as the xDS messages name them.
 */
export interface HeaderMutationLists {
  readonly requestHeadersToAdd: readonly HeaderValueOptionModel[];
  /** Never a `:`-prefixed name or `host`. */
  readonly requestHeadersToRemove: readonly string[];
  readonly responseHeadersToAdd: readonly HeaderValueOptionModel[];
  readonly responseHeadersToRemove: readonly string[];
}
