import type { RegexRewriteModel } from '@dabba/discovery';
import type { RequestView, RouteMatch } from './match/index.ts';
import { compileRegexRewrite, type RegexRewrite } from './regex-rewrite.ts';

/** `:path` (with `?query`) after a route's rewrite, or `undefined` when the route rewrites nothing. */
export type PathRewriter = (req: RequestView) => string | undefined;

/** The configured rewrite of a route action or redirect. */
export interface PathRewrite {
  readonly prefixRewrite: string | undefined;
  readonly regexRewrite: RegexRewrite | undefined;
  readonly rewritePath: PathRewriter;
}

/** Marks a route whose matched part is the whole path (safe_regex routes). */
const WHOLE_PATH = -1;

/**
 * Length of the part of the path that `prefix_rewrite` replaces (Envoy's "matched path"): the
 * configured prefix, path or path_separated_prefix; the whole path for safe_regex routes.
 * With case_sensitive false the request's own characters of that length are replaced.
 */
export function matchedLength(match: RouteMatch): number {
  if (match.prefix !== undefined) return match.prefix.length;
  if (match.path !== undefined) return match.path.length;
  if (match.pathSeparatedPrefix !== undefined) return match.pathSeparatedPrefix.length;
  return WHOLE_PATH;
}

/**
 * Compiles prefix_rewrite / regex_rewrite (route_components.proto RouteAction and
 * RedirectAction; router/config_impl.cc path rewriting):
 * - prefix_rewrite replaces the matched prefix (or the whole matched path) and keeps the rest,
 *   query included: prefix `/prefix/` + rewrite `/` turns `/prefix/etc?x` into `/etc?x`;
 * - regex_rewrite runs on the path without the query and replaces every match; the query is kept;
 * - at most one of the two is set (the decoder refuses both).
 */
export function compilePathRewrite(
  prefixRewrite: string,
  regexRewrite: RegexRewriteModel | undefined,
  matched: number,
): PathRewrite {
  if (prefixRewrite.length > 0) {
    return Object.freeze({
      prefixRewrite,
      regexRewrite: undefined,
      rewritePath: (req: RequestView) => {
        const rest = matched === WHOLE_PATH ? '' : req.path.slice(matched);
        return withQuery(prefixRewrite + rest, req.query);
      },
    });
  }
  if (regexRewrite !== undefined) {
    const compiled = compileRegexRewrite(regexRewrite);
    return Object.freeze({
      prefixRewrite: undefined,
      regexRewrite: compiled,
      rewritePath: (req: RequestView) => withQuery(compiled.replaceAll(req.path), req.query),
    });
  }
  return NO_REWRITE;
}

const NO_REWRITE: PathRewrite = Object.freeze({
  prefixRewrite: undefined,
  regexRewrite: undefined,
  rewritePath: () => undefined,
});

/** `path` followed by `?query` when the request had one. */
export function withQuery(path: string, query: string): string {
  return query.length > 0 ? `${path}?${query}` : path;
}
