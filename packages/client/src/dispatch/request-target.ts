/**
 * Where a request says it is going: authority, port and scheme, parsed from undici's `origin`.
 * Parsing a URL costs about a microsecond, so results are cached per origin string; an
 * application talks to few origins.
 */
import { InvalidRequestError } from '../errors.ts';

export interface RequestTarget {
  /** `host[:port]` as a Host header would carry it (default port omitted). */
  readonly authority: string;
  readonly hostname: string;
  readonly port: number;
  readonly scheme: string;
  /** The origin as given, for passthrough. */
  readonly origin: string;
}

const MAX_CACHED = 4096;
const cache = new Map<string, RequestTarget>();
// undici builds a new origin string per request; comparing with the last one is cheaper than
// hashing it for the map, and most consecutive requests share an origin.
let lastKey = '';
let lastTarget: RequestTarget | undefined;

export function parseTarget(origin: string | URL | undefined): RequestTarget {
  if (origin === undefined) throw new InvalidRequestError('the request has no origin (use an absolute URL)');
  const key = typeof origin === 'string' ? origin : origin.origin;
  if (key === lastKey && lastTarget) return lastTarget;
  const hit = cache.get(key);
  if (hit) {
    lastKey = key;
    lastTarget = hit;
    return hit;
  }
  let url: URL;
  try {
    url = typeof origin === 'string' ? new URL(origin) : origin;
  } catch {
    throw new InvalidRequestError(`invalid origin "${key}"`);
  }
  const scheme = url.protocol.slice(0, -1);
  const target: RequestTarget = Object.freeze({
    authority: url.host,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : scheme === 'https' ? 443 : 80,
    scheme,
    origin: url.origin,
  });
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, target);
  lastKey = key;
  lastTarget = target;
  return target;
}
