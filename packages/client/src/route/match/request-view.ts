/** A header value as Node and undici expose it: one string, several, or absent. */
export type HeaderValue = string | readonly string[] | undefined;

/** Header lookup by lowercase name: a function or a plain object keyed by lowercase name. */
export type HeaderLookup = ((lowercaseName: string) => HeaderValue) | Readonly<Record<string, HeaderValue>>;

/**
 * What route matching reads from a request. Built once per request by the caller.
 *
 * Envoy matches paths without the query string and fragment (PathMatcher strips both), so
 * `path` excludes them and `query` is the raw text after `?` (no `#fragment`).
 */
export interface RequestView {
  /** `:method`, e.g. `GET`. */
  readonly method: string;
  /** `:scheme`, e.g. `http`. */
  readonly scheme: string;
  /** `:authority` (the Host header), as sent, port included. */
  readonly authority: string;
  /** `:path` without `?query` and `#fragment`. */
  readonly path: string;
  /** Raw query string without the leading `?`; `''` when none. Not percent-decoded. */
  readonly query: string;
  /** Regular headers by lowercase name. Pseudo-headers are read from the fields above. */
  readonly headers: HeaderLookup;
}
