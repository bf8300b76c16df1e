import { CoreErrorCode, DabbaError } from '@dabba/core';
import { MatcherCompileError } from './match/index.ts';

/** One problem found in a RouteConfiguration: where (field path) and what. */
export interface RouteConfigIssue {
  /** Field path inside the resource, e.g. `virtualHosts[0].routes[2].match.safeRegex.regex`. */
  readonly path: string;
  readonly message: string;
}

/**
 * Thrown by {@link compileRouteTable} when a RouteConfiguration cannot be compiled. Lists every
 * problem with its field path (every route is compiled even after one fails), so the caller can
 * report `DABBA_CONFIG_INVALID` the way Envoy NACKs the resource, and keep the last good table.
 */
export class RouteConfigError extends DabbaError {
  /** RouteConfiguration.name. */
  readonly resource: string;
  /** Every problem found; never empty. */
  readonly issues: readonly RouteConfigIssue[];
  /** Path of the first issue, for callers that show one. */
  readonly path: string;

  constructor(resource: string, issues: readonly RouteConfigIssue[], options?: { cause?: unknown }) {
    const first = issues[0] ?? { path: '', message: 'invalid route configuration' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`RouteConfiguration "${resource}": ${first.path}: ${first.message}${more}`, {
      code: CoreErrorCode.CONFIG_INVALID,
      cause: options?.cause,
    });
    this.resource = resource;
    this.issues = Object.freeze([...issues]);
    this.path = first.path;
  }
}

/**
 * Runs `compile`, turning a {@link MatcherCompileError} (thrown by the matchers and by this
 * folder's compilers) into an issue pushed on `issues`. Returns `undefined` on failure so the
 * caller can go on and find the next problem.
 */
export function collectIssues<T>(issues: RouteConfigIssue[], compile: () => T): T | undefined {
  try {
    return compile();
  } catch (err) {
    if (!(err instanceof MatcherCompileError)) throw err;
    issues.push({ path: err.path, message: err.message.slice(err.path.length + 2) });
    return undefined;
  }
}
