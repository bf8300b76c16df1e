/**
 * Host name checks as istiod applies them when a resource is created (pkg/config/validation/
 * agent/validation.go `ValidateWildcardDomain`, `CheckDNS1123Preconditions`,
 * `ValidateDNS1123Labels`; pkg/config/labels/instance.go `IsWildcardDNS1123Label`), with its
 * messages. A name istiod refuses (a space, a NUL, an empty label) never reaches a snapshot.
 */
import { isIP } from 'node:net';

/** RFC 1123 label: letters, digits and inner hyphens, at most 63 characters. */
const DNS1123_LABEL = /^[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
/** A first label that may carry a wildcard: `*`, `*foo`, `*-foo`, or a plain label. */
const WILDCARD_LABEL = /^(?:\*|(?:\*|\*-)?[a-zA-Z0-9](?:[-a-zA-Z0-9]*[a-zA-Z0-9])?)$/;
const MAX_LABEL = 63;

const quoted = (s: string) => JSON.stringify(s);

/**
 * istiod tests the top-level domain with Go's `strconv.Atoi`: a sign and digits that fit an
 * int64. Longer digit strings are not "all-numeric" to it, and go on to the label check.
 */
function isAtoiNumber(label: string): boolean {
  if (!/^[+-]?\d+$/.test(label)) return false;
  const value = BigInt(label);
  return value >= -(2n ** 63n) && value < 2n ** 63n;
}

function dns1123Labels(domain: string): string | undefined {
  const parts = domain.split('.');
  const top = parts[parts.length - 1]!;
  if (isAtoiNumber(top))
    return `domain name ${quoted(domain)} invalid (top level domain ${quoted(top)} cannot be all-numeric)`;
  for (let i = 0; i < parts.length; i++) {
    const label = parts[i]!;
    // The last part may be empty, for unambiguous names like `istio.io.`.
    if (i === parts.length - 1 && label === '') return undefined;
    if (label.length > MAX_LABEL || !DNS1123_LABEL.test(label))
      return `domain name ${quoted(domain)} invalid (label ${quoted(label)} invalid)`;
  }
  return undefined;
}

/** istiod's ValidateWildcardDomain: the message it gives, or undefined when the name is valid. */
export function validateWildcardDomain(domain: string): string | undefined {
  if (domain.length > 255) return `domain name ${quoted(domain)} too long (max 255)`;
  if (domain.length === 0) return 'empty domain name not allowed';
  const dot = domain.indexOf('.');
  const first = dot === -1 ? domain : domain.slice(0, dot);
  if (first.length > MAX_LABEL || !WILDCARD_LABEL.test(first))
    return `domain name ${quoted(domain)} invalid (label ${quoted(first)} invalid)`;
  return dot === -1 ? undefined : dns1123Labels(domain.slice(dot + 1));
}

const OUTBOUND_SNI_FORMAT = 'outbound_.<PORT>_._.<HOSTNAME>';
const trimDots = (s: string) => s.replace(/^\.+|\.+$/g, '');

/**
 * istiod's ValidateWildcardDomainForVirtualServiceBoundToGateway: as ValidateWildcardDomain,
 * but a VirtualService with TLS `sniHosts` may also name the SNI istiod generates for
 * AUTO_PASSTHROUGH (`outbound_.80_._.reviews.default.svc.cluster.local`).
 */
export function validateGatewayBoundDomain(sni: boolean, domain: string): string | undefined {
  if (domain.length > 255) return `domain name ${quoted(domain)} too long (max 255)`;
  if (domain.length === 0) return 'empty domain name not allowed';
  if (!sni || !domain.startsWith('outbound_')) return validateWildcardDomain(domain);
  const parts = domain.split('_');
  if (parts.length < 4) return `domain name ${domain} invalid, should follow '${OUTBOUND_SNI_FORMAT}' format`;
  const port = trimDots(parts[1]!);
  const hostname = trimDots(parts[3]!);
  // Go's regexp.MatchString, unanchored: a digit, and a letter, anywhere.
  if (!/[0-9]/.test(port))
    return `domain name ${quoted(domain)} invalid (label ${quoted(port)} invalid). should follow ${OUTBOUND_SNI_FORMAT} format`;
  if (!/[a-zA-Z]/.test(hostname))
    return `domain name ${quoted(domain)} invalid (label ${quoted(hostname)} invalid). should follow ${OUTBOUND_SNI_FORMAT} format`;
  return undefined;
}

/** Whether `host` is an IP address (istiod accepts those as VirtualService hosts). */
export function isIpAddress(host: string): boolean {
  return isIP(host) !== 0;
}
