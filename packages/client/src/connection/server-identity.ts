/**
 * Whether the server's certificate names who we meant to reach, checked after Node has verified
 * its chain against the trust anchor (Envoy's DefaultCertValidator, source/common/tls/
 * cert_validator/default_validator.cc, with Istio's settings):
 *
 * - `match_subject_alt_names` / `match_typed_subject_alt_names` (Istio `subjectAltNames`): some
 *   SAN of the certificate matches some matcher; an exact matcher on a DNS SAN allows the
 *   certificate's wildcard (`*.example.com`), as Envoy's dnsNameMatch;
 * - without matchers: the certificate must name the host (Node's RFC 6125 check): the request's
 *   host under `auto_san_validation` (Istio's default when a DestinationRule names neither `sni`
 *   nor SANs, and always for an application's own `https://`), else the SNI.
 *
 * The last point is stricter than Envoy, which checks no name when a context has neither SAN
 * matchers nor `auto_san_validation` (a DestinationRule that sets `sni` but no
 * `subjectAltNames`): a certificate any trusted CA issued for another name is refused here.
 */
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { SanMatcher, SanType, UpstreamTls } from '@dabba/discovery';
import { compileSafeRegex, type FullMatch } from '../route/match/safe-regex.ts';

type Check = (hostname: string, cert: PeerCertificate) => Error | undefined;

interface San {
  readonly type: SanType;
  readonly value: string;
}

const SAN_PREFIXES: readonly (readonly [string, SanType])[] = [
  ['DNS:', 'DNS'],
  ['URI:', 'URI'],
  ['IP Address:', 'IP_ADDRESS'],
  ['email:', 'EMAIL'],
  ['othername:', 'OTHER_NAME'],
];

/**
 * The SANs of Node's `subjectaltname` string: `DNS:a, URI:b, IP Address:c`, where a value that
 * holds a comma or a quote is written as a JSON string.
 */
export function parseSubjectAltNames(text: string | undefined): San[] {
  const out: San[] = [];
  if (!text) return out;
  let i = 0;
  while (i < text.length) {
    while (text[i] === ' ' || text[i] === ',') i++;
    const prefix = SAN_PREFIXES.find(([p]) => text.startsWith(p, i));
    if (prefix === undefined) {
      const next = text.indexOf(', ', i);
      i = next === -1 ? text.length : next + 2;
      continue;
    }
    i += prefix[0].length;
    let value: string;
    if (text[i] === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      value = JSON.parse(text.slice(i, end + 1)) as string;
      i = end + 1;
    } else {
      const next = text.indexOf(', ', i);
      value = text.slice(i, next === -1 ? text.length : next);
      i = next === -1 ? text.length : next;
    }
    out.push({ type: prefix[1], value });
  }
  return out;
}

/** Envoy's dnsNameMatch: exact, or the certificate's `*.` wildcard standing for one label. */
function dnsNameMatch(expected: string, san: string): boolean {
  const want = expected.toLowerCase();
  const have = san.toLowerCase();
  if (want === have) return true;
  if (!have.startsWith('*.')) return false;
  const dot = want.indexOf('.');
  return dot > 0 && want.slice(dot) === have.slice(1);
}

function compileMatcher(m: SanMatcher): (san: San) => boolean {
  if (m.kind === 'regex') {
    const full = sanRegex(m.value);
    return (san) =>
      (m.sanType === undefined ? san.type !== 'OTHER_NAME' : san.type === m.sanType) && full(san.value);
  }
  const want = m.ignoreCase ? m.value.toLowerCase() : m.value;
  const test = (value: string): boolean => {
    const v = m.ignoreCase ? value.toLowerCase() : value;
    switch (m.kind) {
      case 'exact':
        return v === want;
      case 'prefix':
        return v.startsWith(want);
      case 'suffix':
        return v.endsWith(want);
      default:
        return v.includes(want);
    }
  };
  return (san) => {
    // The untyped form (match_subject_alt_names) reads DNS, URI, email and IP SANs, not othername.
    if (m.sanType === undefined ? san.type === 'OTHER_NAME' : san.type !== m.sanType) return false;
    if (m.kind === 'exact' && san.type === 'DNS') return dnsNameMatch(m.value, san.value);
    return test(san.value);
  };
}

/** The transport decoder checked the pattern (compiling it into the shared cache). */
function sanRegex(pattern: string): FullMatch {
  return compileSafeRegex({ regex: pattern });
}

/**
 * The identity check for connections made with `tls` to `host` (the request's host name, no
 * port) with SNI `servername`; `undefined` when nothing is verified (no trust anchor).
 */
export function serverIdentityCheck(
  tls: UpstreamTls,
  host: string,
  servername: string | undefined,
): Check | undefined {
  if (tls.trust === undefined) return undefined;
  if (tls.sanMatchers.length > 0) {
    const matchers = tls.sanMatchers.map(compileMatcher);
    return (_hostname, cert) => {
      const sans = parseSubjectAltNames(cert.subjectaltname);
      if (sans.some((san) => matchers.some((m) => m(san)))) return undefined;
      const err = new Error(
        `the server certificate's subject alternative names (${cert.subjectaltname || 'none'}) match none of ${tls.sanMatchers
          .map((m) => `${m.kind} "${m.value}"`)
          .join(', ')}`,
      ) as Error & { code: string };
      err.code = 'ERR_TLS_CERT_ALTNAME_INVALID';
      return err;
    };
  }
  const name = tls.autoSanValidation ? host : servername || host;
  return (_hostname, cert) => checkServerIdentity(name, cert);
}
