import { CoreErrorCode, DabbaError } from '@dabba/core';

/**
 * A matcher that cannot be compiled (`DABBA_CONFIG_INVALID`), with the field path of its
 * configuration. Route matchers come from the decoder, which has checked them, so only a pattern
 * that reaches the data plane unchecked can cause it (a TLS context's subject alternative name
 * regex).
 */
export class MatcherCompileError extends DabbaError {
  /** Field path inside the resource, e.g. `matchSubjectAltNames.regex`. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, { code: CoreErrorCode.CONFIG_INVALID, cause: options?.cause });
    this.path = path;
  }
}
