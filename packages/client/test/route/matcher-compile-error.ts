import { CoreErrorCode, DabbaError } from '@dabba/core';

/**
 * What the tests of matchers and retry policies throw for a configuration the decoder refuses
 * (`DABBA_CONFIG_INVALID`, with the field path of the first issue), so that their assertions
 * read as they did when the client's compilers checked fields themselves.
 */
export class MatcherCompileError extends DabbaError {
  /** Field path inside the resource, e.g. `matchSubjectAltNames.regex`. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super(`${path}: ${message}`, { code: CoreErrorCode.CONFIG_INVALID, cause: options?.cause });
    this.path = path;
  }
}
