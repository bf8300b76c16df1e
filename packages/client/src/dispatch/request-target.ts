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

export function parseTarget(origin: string | URL | undefined): RequestTarget {
  if (origin === undefined) throw new InvalidRequestError('the request has no origin (use an absolute URL)');
  const key = typeof origin === 'string' ? origin : origin.origin;
  const hit = cache.get(key);
  if (hit) return hit;
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
  return target;
}
