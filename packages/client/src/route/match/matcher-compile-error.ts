import { CoreErrorCode, DabbaError } from '@dabba/core';

/**
 * Thrown when a matcher in route configuration cannot be compiled (bad regex, missing oneof,
 * value Envoy's proto validation rejects). Carries the field path the caller gave, so the
 * decoder can report `DABBA_CONFIG_INVALID` with the exact location, as Envoy would NACK.
 */
export class MatcherCompileError extends DabbaError {
  /** Field path inside the resource, e.g. `virtualHosts[0].routes[2].match.safeRegex.regex`. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, { code: CoreErrorCode.CONFIG_INVALID, cause: options?.cause });
    this.path = path;
  }
}
