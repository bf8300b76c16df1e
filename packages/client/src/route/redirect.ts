import type { RedirectActionModel, RedirectResponseCode } from '@dabba/discovery';
import type { RequestView } from './match/index.ts';
import { compilePathRewrite, withQuery } from './path-rewrite.ts';

/** A compiled RedirectAction: answer locally with a 3xx and a Location header. */
export interface RedirectRoute {
  readonly kind: 'redirect';
  /** 301, 302, 303, 307 or 308. */
  readonly status: 301 | 302 | 303 | 307 | 308;
  /** `scheme_redirect`, or `https` for `https_redirect`; `undefined` keeps the request's. */
  readonly scheme: string | undefined;
  readonly host: string | undefined;
  /** `port_redirect`; `undefined` when 0 (not set). */
  readonly port: number | undefined;
  readonly pathRedirect: string | undefined;
  readonly prefixRewrite: string | undefined;
  readonly stripQuery: boolean;
  /** The Location header value for `req`, built as Envoy builds it. */
  redirectLocation(req: RequestView): string;
}

const STATUS: Readonly<Record<RedirectResponseCode, RedirectRoute['status']>> = {
  MOVED_PERMANENTLY: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

/**
 * Compiles a RedirectAction (route_components.proto; Envoy's Http::Utility::newUri and
 * RouteEntryImplBase path rewriting):
 * - scheme: `scheme_redirect`, else `https` if `https_redirect`, else the request's `:scheme`;
 * - host: `host_redirect`, else the request's authority, from which the port is dropped when
 *   `port_redirect` is set, or when the scheme changes from the request's x-forwarded-proto and
 *   the port is that protocol's default (`:80` for http, `:443` for https);
 * - port: `:port_redirect` when non-zero;
 * - path: `prefix_rewrite`/`regex_rewrite` applied to the request path first; then
 *   `path_redirect`, if set, replaces the path; a query in `path_redirect` replaces the
 *   request's and is never stripped, otherwise the request's query is kept unless `strip_query`;
 *   a path not starting with `/` gets one;
 * - response_code: MOVED_PERMANENTLY 301 (default), FOUND 302, SEE_OTHER 303,
 *   TEMPORARY_REDIRECT 307, PERMANENT_REDIRECT 308.
 *
 * Envoy's HTTP connection manager always sets x-forwarded-proto before routing; Dabba has no
 * downstream connection, so it reads the request's `x-forwarded-proto` header and falls back to
 * the request's scheme.
 *
 * @param matched length of the matched path part ({@link matchedLength}).
 */
export function compileRedirect(r: RedirectActionModel, matched: number): RedirectRoute {
  const status = STATUS[r.responseCode];
  const scheme = r.schemeRedirect.length > 0 ? r.schemeRedirect : r.httpsRedirect ? 'https' : undefined;
  const host = r.hostRedirect.length > 0 ? r.hostRedirect : undefined;
  const port = r.portRedirect > 0 ? r.portRedirect : undefined;
  const portPart = port === undefined ? '' : `:${port}`;
  const pathRedirect = r.pathRedirect.length > 0 ? r.pathRedirect : undefined;
  const rewrite = compilePathRewrite(r.prefixRewrite, r.regexRewrite, matched);
  const pathRedirectHasQuery = pathRedirect?.includes('?') === true;
  const stripQuery = r.stripQuery;

  const redirectLocation = (req: RequestView): string => {
    const finalScheme = scheme ?? req.scheme;
    const finalHost = host ?? requestHost(req, finalScheme, port !== undefined);
    const current = rewrite.rewritePath(req) ?? withQuery(req.path, req.query);
    let finalPath: string;
    if (pathRedirect === undefined) {
      finalPath = current;
    } else if (pathRedirectHasQuery) {
      finalPath = pathRedirect;
    } else {
      const q = current.indexOf('?');
      finalPath = q === -1 ? pathRedirect : pathRedirect + current.slice(q);
    }
    if (!finalPath.startsWith('/')) finalPath = `/${finalPath}`;
    if (!pathRedirectHasQuery && stripQuery) {
      const q = finalPath.indexOf('?');
      if (q !== -1) finalPath = finalPath.slice(0, q);
    }
    return `${finalScheme}://${finalHost}${portPart}${finalPath}`;
  };

  return Object.freeze({
    kind: 'redirect',
    status,
    scheme,
    host,
    port,
    pathRedirect,
    prefixRewrite: rewrite.prefixRewrite,
    stripQuery,
    redirectLocation,
  });
}

// Envoy's processRequestHost: the authority, with its port removed when a port redirect is set
// or when the scheme changes away from the forwarded protocol whose default port it is.
function requestHost(req: RequestView, newScheme: string, portRedirect: boolean): string {
  const authority = req.authority;
  if (authority.length === 0) return authority;
  let portStart: number;
  if (authority.charCodeAt(0) === 91 /* '[' */) {
    portStart = authority.lastIndexOf(']:');
    if (portStart !== -1) portStart += 1;
  } else {
    portStart = authority.lastIndexOf(':');
  }
  if (portStart === -1) return authority;
  const requestPort = authority.slice(portStart);
  const forwarded = forwardedProto(req);
  let remove = portRedirect;
  if (newScheme !== forwarded) {
    remove ||=
      (forwarded === 'https' && requestPort === ':443') || (forwarded === 'http' && requestPort === ':80');
  }
  return remove ? authority.slice(0, portStart) : authority;
}

function forwardedProto(req: RequestView): string {
  const h = req.headers;
  const v = typeof h === 'function' ? h('x-forwarded-proto') : h['x-forwarded-proto'];
  if (v === undefined) return req.scheme;
  return typeof v === 'string' ? v : (v[0] ?? req.scheme);
}
