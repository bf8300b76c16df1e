/**
 * Thrown when a matcher in route configuration cannot be compiled (bad regex, missing oneof,
 * value Envoy's proto validation rejects). Carries the field path the caller gave, so the
 * decoder can report `DABBA_CONFIG_INVALID` with the exact location, as Envoy would NACK.
 *
 * Local to this folder until the package's `DabbaError` base exists; the `code` is stable.
 */
export class MatcherCompileError extends Error {
  readonly code = 'DABBA_CONFIG_INVALID' as const;
  /** Field path inside the resource, e.g. `virtualHosts[0].routes[2].match.safeRegex.regex`. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, options);
    this.name = 'MatcherCompileError';
    this.path = path;
  }
}
