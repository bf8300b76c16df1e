/**
 * One request as the data plane sees it: the route-matching view (method, scheme, authority,
 * path without query, raw query, headers by lowercase name) over undici's dispatch options.
 * Headers stay in the shape undici was given (object, flat array, iterable of pairs) and are
 * indexed only when something asks for one: most requests are routed on authority and path
 * alone, and every copy costs the request path time.
 */
import type { Dispatcher } from 'undici';
import type { HeaderLookup, HeaderValue, RequestView } from '../route/match/index.ts';

export type RawHeaders = Dispatcher.DispatchOptions['headers'];
type RawValue = string | string[] | number | undefined | null;

function isIterable(value: unknown): value is Iterable<[string, string | string[] | undefined]> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function'
  );
}

/** Whether raw headers may carry a Host header, without indexing them (the common case has none). */
function mayHaveHost(raw: RawHeaders): boolean {
  if (raw == null) return false;
  if (Array.isArray(raw)) {
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i];
      if (typeof name === 'string' && name.length === 4 && name.toLowerCase() === 'host') return true;
    }
    return false;
  }
  if (isIterable(raw)) return true;
  const obj = raw as Record<string, unknown>;
  if (obj.host !== undefined || obj.Host !== undefined) return true;
  // An unusual spelling (HOST, hOst) is found by the index.
  for (const k in obj) if (k.length === 4 && k.toLowerCase() === 'host') return true;
  return false;
}

export class IncomingRequest implements RequestView {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  readonly raw: RawHeaders;
  #index: Map<string, string[]> | undefined;
  #lookup: HeaderLookup | undefined;

  constructor(
    method: string,
    scheme: string,
    defaultAuthority: string,
    pathAndQuery: string,
    raw: RawHeaders,
  ) {
    this.method = method;
    this.scheme = scheme;
    this.raw = raw;
    const q = pathAndQuery.indexOf('?');
    const hash = pathAndQuery.indexOf('#');
    const end = hash < 0 ? pathAndQuery.length : hash;
    if (q < 0 || q > end) {
      this.path = end === pathAndQuery.length ? pathAndQuery : pathAndQuery.slice(0, end);
      this.query = '';
    } else {
      this.path = pathAndQuery.slice(0, q);
      this.query = pathAndQuery.slice(q + 1, end);
    }
    // Envoy routes on :authority, which an explicit Host header sets.
    this.authority = mayHaveHost(raw) ? (this.get('host') ?? defaultAuthority) : defaultAuthority;
  }

  /** Header lookup for matchers; built on first use. */
  get headers(): HeaderLookup {
    this.#lookup ??= (name: string): HeaderValue => this.values(name);
    return this.#lookup;
  }

  /** All values of `name` (lowercase), or undefined when absent. */
  values(name: string): readonly string[] | undefined {
    return this.#headerIndex().get(name);
  }

  /** The header as Envoy matches it: several values joined with `,`. */
  get(name: string): string | undefined {
    const v = this.#headerIndex().get(name);
    if (v === undefined) return undefined;
    return v.length === 1 ? v[0] : v.join(',');
  }

  /** Every header as lowercase name -> value(s); a fresh copy the caller may change. */
  toRecord(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of this.#headerIndex()) out[k] = v.length === 1 ? v[0]! : [...v];
    return out;
  }

  #headerIndex(): Map<string, string[]> {
    if (this.#index) return this.#index;
    const map = new Map<string, string[]>();
    const add = (name: unknown, value: RawValue) => {
      if (value === undefined || value === null) return;
      const key = String(name).toLowerCase();
      const list = map.get(key);
      const values = Array.isArray(value) ? value.map(String) : [String(value)];
      if (list) list.push(...values);
      else map.set(key, values);
    };
    const raw = this.raw;
    if (Array.isArray(raw)) {
      for (let i = 0; i < raw.length; i += 2) add(raw[i], raw[i + 1] as RawValue);
    } else if (raw != null && isIterable(raw)) {
      for (const [k, v] of raw) add(k, v);
    } else if (raw != null) {
      for (const [k, v] of Object.entries(raw as Record<string, RawValue>)) add(k, v);
    }
    this.#index = map;
    return map;
  }
}
