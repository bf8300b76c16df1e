/**
 * Host name rules Istio applies, kept together because routing depends on all of them agreeing.
 */
import { isIP } from 'node:net';

/**
 * Resolves a VirtualService/DestinationRule host the way istiod does (ResolveShortnameToFQDN):
 * `*`, IP addresses and any name containing a dot are taken as they are; a bare name gets the
 * resource's namespace and `svc.<clusterDomain>` appended (`reviews` in `default` becomes
 * `reviews.default.svc.cluster.local`, while `reviews.default` stays as written).
 */
export function resolveShortName(host: string, namespace: string, clusterDomain: string): string {
  if (host === '*' || isIP(host) !== 0 || host.includes('.')) return host.toLowerCase();
  return `${host}.${namespace}.svc.${clusterDomain}`.toLowerCase();
}

/** `domain` and `domain:port` (Istio appendDomainPort). */
function withAndWithoutPort(domain: string, port: number): string[] {
  return [domain, `${domain}:${port}`];
}

/**
 * The extra virtual host domains Istio adds for a service so a client can use the names
 * Kubernetes DNS would resolve (httproute.go GenerateAltVirtualHosts), each with and without port.
 * With a Kubernetes proxy domain (`<ns>.svc.<clusterDomain>`), only `*.svc.<clusterDomain>` hosts
 * are expanded: in the proxy's namespace to `name`, `name.ns.svc` and `name.ns`; in another
 * namespace to `name.ns` and `name.ns.svc`. Other proxy domains keep the part of the host not
 * shared with the domain. Nothing is added for a host outside the domain (`api.example.com`).
 */
export function alternateDomains(hostname: string, port: number, proxyDnsDomain: string): string[] {
  const svc = proxyDnsDomain.indexOf('.svc.');
  if (svc > 0) {
    // generateAltVirtualHostsForKubernetesService: expanding any other host could collide with
    // the expansion of a Kubernetes service name.
    if (!hostname.endsWith(proxyDnsDomain.slice(svc))) return [];
    const ih = hostname.indexOf('.svc.');
    if (ih <= 0) return [];
    const ns = hostname.indexOf('.');
    if (ns + 1 >= hostname.length || ns + 1 > ih) return [];
    const nameNs = hostname.slice(0, ih);
    if (hostname.slice(ns + 1, ih) === proxyDnsDomain.slice(0, svc)) {
      return [
        ...withAndWithoutPort(hostname.slice(0, ns), port),
        ...withAndWithoutPort(`${nameNs}.svc`, port),
        ...withAndWithoutPort(nameNs, port),
      ];
    }
    return [...withAndWithoutPort(nameNs, port), ...withAndWithoutPort(`${nameNs}.svc`, port)];
  }
  const hostParts = hostname.split('.');
  const domainParts = proxyDnsDomain.split('.');
  let shared = 0;
  while (
    shared < hostParts.length &&
    shared < domainParts.length &&
    hostParts[hostParts.length - 1 - shared] === domainParts[domainParts.length - 1 - shared]
  ) {
    shared++;
  }
  if (shared === 0) return [];
  const uniqueParts = hostParts.slice(0, hostParts.length - shared);
  const unique = uniqueParts.join('.');
  const out = withAndWithoutPort(unique, port);
  if (uniqueParts.length === 2)
    out.push(...withAndWithoutPort(`${unique}.${domainParts[domainParts.length - shared]}`, port));
  return out;
}

/** Every domain Istio puts on the virtual host of `hostname:port` for a proxy in `proxyNamespace`. */
export function virtualHostDomains(
  hostname: string,
  port: number,
  proxyNamespace: string,
  clusterDomain: string,
): string[] {
  const domains = [hostname, `${hostname}:${port}`];
  for (const alt of alternateDomains(hostname, port, `${proxyNamespace}.svc.${clusterDomain}`)) {
    if (!domains.includes(alt)) domains.push(alt);
  }
  return domains;
}

/** Istio's outbound cluster name: `outbound|<port>|<subset>|<fqdn>`. */
export function outboundClusterName(port: number, subset: string, hostname: string): string {
  return `outbound|${port}|${subset}|${hostname}`;
}

/** Istio's SNI for an outbound cluster: `outbound_.<port>_.<subset>_.<fqdn>`. */
export function outboundSni(port: number, subset: string, hostname: string): string {
  return `outbound_.${port}_.${subset}_.${hostname}`;
}

/** Does `host` (possibly `*.example.com`) cover `target`? Istio's wildcard host matching. */
export function hostMatches(pattern: string, target: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return target.endsWith(pattern.slice(1));
  return pattern === target;
}
