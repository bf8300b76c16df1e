/**
 * Reads request headers in whatever shape undici was given them (object, flat array, iterable of
 * pairs) without copying them unless something needs to: most requests are routed on authority
 * and path alone, and each copy costs the request path time.
 */
import type { Dispatcher } from 'undici';

export type RawHeaders = Dispatcher.DispatchOptions['headers'];
type HeaderValue = string | string[] | number | undefined | null;

/** Lowercase-name view of a request's headers, built on first use. */
export class RequestHeaders {
  readonly raw: RawHeaders;
  #map: Map<string, string[]> | undefined;

  constructor(raw: RawHeaders) {
    this.raw = raw;
  }

  /** All values of `name` (lowercase), or undefined when absent. */
  values(name: string): readonly string[] | undefined {
    return this.#index().get(name);
  }

  /** The header as Envoy matches it: several values joined with `,`. */
  get(name: string): string | undefined {
    const v = this.#index().get(name);
    if (v === undefined) return undefined;
    return v.length === 1 ? v[0] : v.join(',');
  }

  has(name: string): boolean {
    return this.#index().has(name);
  }

  /** Every header as lowercase name -> values; a fresh copy the caller may change. */
  toRecord(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [k, v] of this.#index()) out[k] = v.length === 1 ? v[0]! : [...v];
    return out;
  }

  /** The raw headers plus `host: authority` when they carry no host header (Envoy forwards the authority). */
  withHost(authority: string): NonNullable<RawHeaders> {
    const raw = this.raw;
    if (raw == null) return { host: authority };
    if (Array.isArray(raw)) {
      for (let i = 0; i < raw.length; i += 2) if (String(raw[i]).toLowerCase() === 'host') return raw;
      return [...raw, 'host', authority];
    }
    if (isIterable(raw)) {
      if (this.has('host')) return raw;
      const out: [string, string | string[] | undefined][] = [...raw];
      out.push(['host', authority]);
      return out;
    }
    const obj = raw as Record<string, HeaderValue>;
    if (obj.host !== undefined || obj.Host !== undefined || this.has('host')) return raw;
    return { ...(obj as Record<string, string | string[]>), host: authority };
  }

  #index(): Map<string, string[]> {
    if (this.#map) return this.#map;
    const map = new Map<string, string[]>();
    const add = (name: unknown, value: HeaderValue) => {
      if (value === undefined || value === null) return;
      const key = String(name).toLowerCase();
      const list = map.get(key);
      const values = Array.isArray(value) ? value.map(String) : [String(value)];
      if (list) list.push(...values);
      else map.set(key, values);
    };
    const raw = this.raw;
    if (Array.isArray(raw)) {
      for (let i = 0; i < raw.length; i += 2) add(raw[i], raw[i + 1] as HeaderValue);
    } else if (raw != null && isIterable(raw)) {
      for (const [k, v] of raw) add(k, v);
    } else if (raw != null) {
      for (const [k, v] of Object.entries(raw as Record<string, HeaderValue>)) add(k, v);
    }
    this.#map = map;
    return map;
  }
}

function isIterable(value: unknown): value is Iterable<[string, string | string[] | undefined]> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Iterable<unknown>)[Symbol.iterator] === 'function'
  );
}
