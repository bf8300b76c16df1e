import type { IssueSink } from './decoded.ts';

/** Virtual hosts checked between two yields of {@link validateVirtualHostDomainsSteps}. */
const VHOSTS_PER_STEP = 256;

/**
 * Checks the domains of a route configuration's virtual hosts as Envoy does
 * (router/config_impl.cc RouteMatcher): compared ASCII-lowercased, no domain may appear twice
 * (an exact domain, or the fixed part of a `*` prefix or suffix wildcard), and `*` at most
 * once. Reports the first offending domain only: a virtual host copied whole would otherwise
 * be reported once per domain.
 *
 * @param path field path of the virtual host list, e.g. `virtualHosts`.
 */
export function validateVirtualHostDomains(
  virtualHosts: readonly { readonly domains: readonly string[] }[],
  path: string,
  sink: IssueSink,
): void {
  const steps = validateVirtualHostDomainsSteps(virtualHosts, path, sink);
  while (!steps.next().done);
}

/** {@link validateVirtualHostDomains} as steps, yielding every {@link VHOSTS_PER_STEP} virtual hosts. */
export function* validateVirtualHostDomainsSteps(
  virtualHosts: readonly { readonly domains: readonly string[] }[],
  path: string,
  sink: IssueSink,
): Generator<void, void, void> {
  const exact = new Set<string>();
  const suffixes = new Set<string>();
  const prefixes = new Set<string>();
  let wildcard = false;
  for (let v = 0; v < virtualHosts.length; v++) {
    if (v > 0 && v % VHOSTS_PER_STEP === 0) yield;
    const domains = virtualHosts[v]!.domains;
    for (let d = 0; d < domains.length; d++) {
      const raw = domains[d]!;
      const at = `${path}[${v}].domains[${d}]`;
      const domain = asciiLower(raw);
      if (domain === '*') {
        if (wildcard) {
          sink.add(at, 'only a single wildcard domain "*" is permitted');
          return;
        }
        wildcard = true;
        continue;
      }
      const [seen, fixed] = domain.startsWith('*')
        ? [suffixes, domain.slice(1)]
        : domain.endsWith('*')
          ? [prefixes, domain.slice(0, -1)]
          : [exact, domain];
      if (seen.has(fixed)) {
        sink.add(at, `duplicate domain "${raw}"`);
        return;
      }
      seen.add(fixed);
    }
  }
}

// Envoy folds domain case with absl::AsciiStrToLower: A-Z only.
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (upper) => upper.toLowerCase());
}
