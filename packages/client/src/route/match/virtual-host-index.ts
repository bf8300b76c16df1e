import { asciiLower } from './ascii-case.ts';

/** The part of route_components.proto VirtualHost that selection needs. */
export interface VirtualHostDomains {
  readonly domains: readonly string[];
}

/** Options from RouteConfiguration. */
export interface VirtualHostIndexOptions {
  /** RouteConfiguration.ignore_port_in_host_matching: drop `:port` from the authority first. */
  readonly ignorePortInHostMatching?: boolean;
}

/** Picks the virtual host for an authority; `undefined` when none matches (Envoy: NR). */
export interface VirtualHostIndex<T> {
  selectVirtualHost(authority: string): T | undefined;
}

interface WildcardLevel<T> {
  /** Length of the fixed part (the domain without its `*`). */
  readonly length: number;
  readonly byFixedPart: Map<string, T>;
}

/**
 * Builds Envoy's virtual host lookup (route_components.proto VirtualHost.domains;
 * router/config_impl.cc RouteMatcher):
 * 1. exact domain (`www.foo.com`, `reviews:9080`): one Map lookup;
 * 2. suffix wildcards (`*.foo.com`, `*-bar.foo.com`), longest first;
 * 3. prefix wildcards (`foo.*`, `foo-*`), longest first;
 * 4. `*`.
 * Domains and the authority are compared ASCII-lowercased. The authority is matched as sent,
 * port included (Istio lists `reviews`, `reviews:9080`, ... for that reason) unless
 * `ignorePortInHostMatching`. A wildcard never matches the empty string: `*.foo.com` does not
 * match `.foo.com`. Wildcard lookups cost one Map probe per distinct wildcard length.
 *
 * The domains must be valid (decoded, or checked with validateVirtualHostDomains): no domain
 * twice, `*` at most once.
 */
export function compileVirtualHostIndex<T extends VirtualHostDomains>(
  vhosts: readonly T[],
  options: VirtualHostIndexOptions = {},
): VirtualHostIndex<T> {
  const steps = compileVirtualHostIndexSteps(vhosts, options);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/** Virtual hosts indexed between two yields of {@link compileVirtualHostIndexSteps}. */
const VHOSTS_PER_STEP = 256;

/**
 * {@link compileVirtualHostIndex} as steps: the same index, built in the same order, yielding
 * every {@link VHOSTS_PER_STEP} virtual hosts so that a caller compiling in slices can pause a
 * configuration with thousands of hosts.
 */
export function* compileVirtualHostIndexSteps<T extends VirtualHostDomains>(
  vhosts: readonly T[],
  options: VirtualHostIndexOptions = {},
): Generator<void, VirtualHostIndex<T>, void> {
  const exact = new Map<string, T>();
  const suffixes = new Map<number, Map<string, T>>();
  const prefixes = new Map<number, Map<string, T>>();
  let fallback: T | undefined;

  for (let v = 0; v < vhosts.length; v++) {
    if (v > 0 && v % VHOSTS_PER_STEP === 0) yield;
    const vhost = vhosts[v]!;
    for (const raw of vhost.domains) {
      const domain = asciiLower(raw);
      if (domain === '*') fallback = vhost;
      else if (domain.startsWith('*')) add(suffixes, domain.slice(1), vhost);
      else if (domain.endsWith('*')) add(prefixes, domain.slice(0, -1), vhost);
      else exact.set(domain, vhost);
    }
  }

  const suffixLevels = levels(suffixes);
  const prefixLevels = levels(prefixes);
  const ignorePort = options.ignorePortInHostMatching === true;

  return {
    selectVirtualHost(authority: string): T | undefined {
      let host = asciiLower(authority);
      if (ignorePort) host = stripPort(host);
      const hit = exact.get(host);
      if (hit !== undefined) return hit;
      const n = host.length;
      for (const level of suffixLevels) {
        // `<` not `<=`: the wildcard must cover at least one character.
        if (level.length >= n) continue;
        const found = level.byFixedPart.get(host.slice(n - level.length));
        if (found !== undefined) return found;
      }
      for (const level of prefixLevels) {
        if (level.length >= n) continue;
        const found = level.byFixedPart.get(host.slice(0, level.length));
        if (found !== undefined) return found;
      }
      return fallback;
    },
  };
}

function add<T>(byLength: Map<number, Map<string, T>>, fixed: string, vhost: T): void {
  let m = byLength.get(fixed.length);
  if (m === undefined) {
    m = new Map();
    byLength.set(fixed.length, m);
  }
  m.set(fixed, vhost);
}

function levels<T>(byLength: Map<number, Map<string, T>>): readonly WildcardLevel<T>[] {
  return [...byLength]
    .map(([length, byFixedPart]) => ({ length, byFixedPart }))
    .sort((a, b) => b.length - a.length);
}

// Envoy's HeaderUtility::getPortStart: the last ':' starts the port unless it sits inside an
// IPv6 literal (`[...]`).
function stripPort(host: string): string {
  const colon = host.lastIndexOf(':');
  if (colon === -1) return host;
  const bracket = host.lastIndexOf(']');
  if (bracket !== -1 && bracket > colon) return host;
  return host.slice(0, colon);
}
