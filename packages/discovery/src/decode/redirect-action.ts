import {
  RedirectAction_RedirectResponseCode as Code,
  type RedirectAction,
} from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { RedirectActionModel, RedirectResponseCode } from '../model/redirect-action.ts';
import type { IssueSink } from './decoded.ts';
import { decodeRegexRewrite } from './regex-rewrite.ts';

const RESPONSE_CODES: Readonly<Record<number, RedirectResponseCode>> = {
  [Code.MOVED_PERMANENTLY]: 'MOVED_PERMANENTLY',
  [Code.FOUND]: 'FOUND',
  [Code.SEE_OTHER]: 'SEE_OTHER',
  [Code.TEMPORARY_REDIRECT]: 'TEMPORARY_REDIRECT',
  [Code.PERMANENT_REDIRECT]: 'PERMANENT_REDIRECT',
};

/**
 * A RedirectAction: a response code the enum defines, a port number, a valid regex rewrite.
 *
 * @param path field path of the RedirectAction.
 */
export function decodeRedirectAction(
  r: RedirectAction,
  path: string,
  sink: IssueSink,
): RedirectActionModel | undefined {
  const responseCode = RESPONSE_CODES[r.responseCode];
  if (responseCode === undefined) sink.add(`${path}.responseCode`, `unknown response code ${r.responseCode}`);
  if (!Number.isInteger(r.portRedirect) || r.portRedirect < 0 || r.portRedirect > 65535)
    sink.add(`${path}.portRedirect`, 'must be a port number');
  const s = r.schemeRewriteSpecifier;
  const p = r.pathRewriteSpecifier;
  const regexRewrite =
    p.case === 'regexRewrite' ? decodeRegexRewrite(p.value, `${path}.regexRewrite`, sink) : undefined;
  if (responseCode === undefined) return undefined;
  return {
    kind: 'redirect',
    httpsRedirect: s.case === 'httpsRedirect' && s.value,
    schemeRedirect: s.case === 'schemeRedirect' ? s.value : '',
    hostRedirect: r.hostRedirect,
    portRedirect: r.portRedirect,
    pathRedirect: p.case === 'pathRedirect' ? p.value : '',
    prefixRewrite: p.case === 'prefixRewrite' ? p.value : '',
    regexRewrite,
    responseCode,
    stripQuery: r.stripQuery,
  };
}
