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

function dns1123Labels(domain: string): string | undefined {
  const parts = domain.split('.');
  const top = parts[parts.length - 1]!;
  if (/^[+-]?\d+$/.test(top))
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

/** Whether `host` is an IP address (istiod accepts those as VirtualService hosts). */
export function isIpAddress(host: string): boolean {
  return isIP(host) !== 0;
}
