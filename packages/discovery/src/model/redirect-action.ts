import type { RegexRewriteModel } from './regex-rewrite.ts';

/** RedirectAction.RedirectResponseCode. */
export type RedirectResponseCode =
  | 'MOVED_PERMANENTLY'
  | 'FOUND'
  | 'SEE_OTHER'
  | 'TEMPORARY_REDIRECT'
  | 'PERMANENT_REDIRECT';

/**
 * route_components.proto RedirectAction (Route.redirect). Of each oneof at most one member is
 * set: `httpsRedirect` or `schemeRedirect`; `pathRedirect`, `prefixRewrite` or `regexRewrite`.
 */
export interface RedirectActionModel {
  readonly kind: 'redirect';
  readonly httpsRedirect: boolean;
  /** `''` when unset. */
  readonly schemeRedirect: string;
  /** `''` when unset. */
  readonly hostRedirect: string;
  /** A port number; 0 when unset. */
  readonly portRedirect: number;
  /** `''` when unset. */
  readonly pathRedirect: string;
  /** `''` when unset. */
  readonly prefixRewrite: string;
  readonly regexRewrite: RegexRewriteModel | undefined;
  readonly responseCode: RedirectResponseCode;
  readonly stripQuery: boolean;
}
