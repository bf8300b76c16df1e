import type { HeaderLookup, HeaderValue, RequestView } from './request-view.ts';

/** Source of Envoy's per-request random value: a non-negative integer, uniform enough for `% 1e6`. */
export type RandomValueSource = () => number;

const defaultRandom: RandomValueSource = () => Math.floor(Math.random() * 0x1_0000_0000);

/**
 * Per-request state shared by every compiled matcher while one request is routed: the request
 * view plus values computed lazily, at most once, and only if some route needs them
 * (parsed query, the random value for runtime_fraction).
 *
 * Envoy draws one random value per stream and passes the same value to every route's
 * runtime_fraction check (RouteMatcher::route(headers, stream_info, random_value)), so two routes
 * with 50% each see the same draw; this context mirrors that.
 */
export class MatchContext {
  request: RequestView;
  readonly #random: RandomValueSource;
  #query: Map<string, string> | undefined;
  #randomValue = -1;
  #fullPath: string | undefined;

  constructor(request: RequestView, random: RandomValueSource = defaultRandom) {
    this.request = request;
    this.#random = random;
  }

  /**
   * Makes this context serve a new request. The data plane routes one request at a time on its
   * thread, so it keeps one context and resets it instead of allocating one per request.
   */
  reset(request: RequestView): this {
    this.request = request;
    this.#query = undefined;
    this.#randomValue = -1;
    this.#fullPath = undefined;
    return this;
  }

  /**
   * The value Envoy's HeaderMatcher sees for `lowercaseName`, or `undefined` when absent.
   * Several values are joined with `,` (HeaderUtility::getAllOfHeaderAsString).
   * `:authority`, `:method`, `:path` (with query), `:scheme` come from the request view; `host`
   * is always absent because Envoy folds the HTTP/1 Host header into `:authority`.
   */
  header(lowercaseName: string): string | undefined {
    if (lowercaseName.charCodeAt(0) === 58 /* ':' */) return this.#pseudo(lowercaseName);
    if (lowercaseName === 'host') return undefined;
    // Read through the view each time: a view may build its lookup only when first asked.
    const h: HeaderLookup = this.request.headers;
    const v: HeaderValue = typeof h === 'function' ? h(lowercaseName) : h[lowercaseName];
    if (v === undefined || typeof v === 'string') return v;
    // An empty array means no header at all.
    return v.length === 0 ? undefined : v.length === 1 ? v[0] : v.join(',');
  }

  /**
   * First value of query parameter `name`, or `undefined` when absent. Envoy parses the raw
   * query (QueryParamsMulti::parseQueryString): split on `&`, then on the first `=`, a key with
   * no `=` has value `''`, nothing is percent-decoded, and the first occurrence wins.
   */
  queryParam(name: string): string | undefined {
    let q = this.#query;
    if (q === undefined) {
      q = parseQuery(this.request.query);
      this.#query = q;
    }
    return q.get(name);
  }

  /** This request's random value, drawn on first use and then fixed. */
  randomValue(): number {
    if (this.#randomValue < 0) this.#randomValue = this.#random();
    return this.#randomValue;
  }

  #pseudo(name: string): string | undefined {
    const r = this.request;
    switch (name) {
      case ':authority':
        return r.authority;
      case ':method':
        return r.method;
      case ':scheme':
        return r.scheme;
      case ':path':
        if (this.#fullPath === undefined) {
          this.#fullPath = r.query.length > 0 ? `${r.path}?${r.query}` : r.path;
        }
        return this.#fullPath;
      default:
        return undefined;
    }
  }
}

function parseQuery(query: string): Map<string, string> {
  const params = new Map<string, string>();
  let start = 0;
  const n = query.length;
  while (start < n) {
    let end = query.indexOf('&', start);
    if (end === -1) end = n;
    const eq = query.indexOf('=', start);
    let key: string;
    let value: string;
    if (eq !== -1 && eq < end) {
      key = query.slice(start, eq);
      value = query.slice(eq + 1, end);
    } else {
      key = query.slice(start, end);
      value = '';
    }
    if (!params.has(key)) params.set(key, value);
    start = end + 1;
  }
  return params;
}
