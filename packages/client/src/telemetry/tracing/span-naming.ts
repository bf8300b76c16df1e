/**
 * The name of a request's CLIENT span.
 *
 * Envoy names a span after the matched route's decorator operation (route_components.proto
 * `Decorator.operation`), and Istio sets one on every outbound route (istio/istio
 * pilot/pkg/networking/core route translation, `getRouteOperation`): `<host>:<port><path>`, the
 * host and port parsed from the route's single cluster (`outbound|<port>|<subset>|<host>`), the
 * path `/*` for the default and catch-all routes. That is what Jaeger and Kiali show for sidecar
 * spans, so it is the default. Differences: a route matching a path prefix `/p` is `/p*` in
 * Istio, an exact path that path, a regex the regex, and a route splitting over several clusters
 * is named after its VirtualService; Dabba names every span `<host of the chosen cluster>:<port>/*`.
 *
 * OpenTelemetry's HTTP client conventions name the span `{http.request.method}` when no URL
 * template is known (`spanName: 'otel'`).
 */
const OUTBOUND = 'outbound|';

/** `<fqdn>:<port>/*` from an Istio cluster name (`outbound|<port>|<subset>|<fqdn>`), else from the authority. */
export function istioOperationName(cluster: string | undefined, authority: string): string {
  if (cluster?.startsWith(OUTBOUND)) {
    const portEnd = cluster.indexOf('|', OUTBOUND.length);
    const subsetEnd = portEnd < 0 ? -1 : cluster.indexOf('|', portEnd + 1);
    if (subsetEnd > 0) return `${cluster.slice(subsetEnd + 1)}:${cluster.slice(OUTBOUND.length, portEnd)}/*`;
  }
  return `${authority}/*`;
}

/** The subset of an Istio cluster name (`outbound|9080|v1|reviews...` -> `v1`), `undefined` when none. */
export function istioSubset(cluster: string): string | undefined {
  if (!cluster.startsWith(OUTBOUND)) return undefined;
  const portEnd = cluster.indexOf('|', OUTBOUND.length);
  if (portEnd < 0) return undefined;
  const subsetEnd = cluster.indexOf('|', portEnd + 1);
  const subset = subsetEnd < 0 ? cluster.slice(portEnd + 1) : cluster.slice(portEnd + 1, subsetEnd);
  return subset === '' ? undefined : subset;
}
