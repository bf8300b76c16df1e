/**
 * HTTP route configurations, one per outbound port, built from VirtualServices the way istiod
 * builds them for a sidecar: a virtual host per service on that port with the domains Istio
 * generates, VirtualService http routes in order (each `match` entry its own Envoy route), a
 * default route for services without a VirtualService, and the `allow_any`/`block_all` catch-all.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import {
  RedirectAction_RedirectResponseCode,
  type RouteActionSchema,
  type RouteSchema,
  type VirtualHost,
  VirtualHostSchema,
  type WeightedCluster_ClusterWeightSchema,
} from '#xds/envoy/config/route/v3/route_components_pb.js';
import { type RouteConfiguration, RouteConfigurationSchema } from '#xds/envoy/config/route/v3/route_pb.js';
import type { ConfigIssue } from '../errors.ts';
import { runSteps, type Steps } from '../steps.ts';
import type { Workload } from '../workload.ts';
import { resolveShortName, virtualHostDomains } from './host-names.ts';
import { formatPath, type VirtualService } from './istio-resource.ts';
import { BLACKHOLE_CLUSTER, type MeshConfig, PASSTHROUGH_CLUSTER } from './mesh-config.ts';
import { durationFromMs, MAX_UINT32 } from './proto-values.ts';
import type { Headers } from './schema-common.ts';
import type { Service } from './service-registry.ts';
import { faultPerFilterConfig, validateFault } from './translate-fault.ts';
import { applyHeaders } from './translate-headers.ts';
import { mirrorPolicies } from './translate-mirror.ts';
import { retryPolicy } from './translate-retries.ts';
import { isCatchAll, matchAppliesToWorkload, routeMatch } from './translate-route-match.ts';
import type { IstioHttpMatch, IstioHttpRoute } from './virtual-service-schema.ts';

type RouteInit = MessageInitShape<typeof RouteSchema>;
type RouteActionInit = MessageInitShape<typeof RouteActionSchema>;
type VirtualHostInit = MessageInitShape<typeof VirtualHostSchema>;

/** Looks up the cluster a destination resolves to; returns an issue message when it cannot. */
export type ClusterResolver = (
  host: string,
  port: number | undefined,
  subset: string | undefined,
  listenerPort: number,
) => { cluster: string } | { error: string };

export interface RouteInputs {
  readonly port: number;
  /** Services with an HTTP (or unknown) protocol on this port. */
  readonly services: readonly Service[];
  /** VirtualServices that apply to sidecars, by the service host they bind to. */
  readonly virtualServiceFor: (hostname: string) => VirtualService | undefined;
  readonly resolveCluster: ClusterResolver;
  /** Consistent-hash policy of a cluster, from its DestinationRule. */
  readonly hashPolicyFor: (cluster: string) => RouteActionInit['hashPolicy'];
  readonly workload: Workload;
  readonly mesh: MeshConfig;
  readonly issues: ConfigIssue[];
}

const REDIRECT_CODES: Record<number, RedirectAction_RedirectResponseCode> = {
  301: RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
  302: RedirectAction_RedirectResponseCode.FOUND,
  303: RedirectAction_RedirectResponseCode.SEE_OTHER,
  307: RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT,
  308: RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT,
};

/** Builds the RouteConfiguration named after the port (istiod names it `"<port>"`). */
export function translateRoutes(input: RouteInputs): RouteConfiguration {
  return runSteps(translateRoutesSteps(input));
}

/** {@link translateRoutes} as steps: it pauses after each virtual host. */
export function* translateRoutesSteps(input: RouteInputs): Steps<RouteConfiguration> {
  const { port, workload, mesh } = input;
  const virtualHosts: (VirtualHostInit | VirtualHost)[] = [];
  for (const service of input.services) {
    const domains = virtualHostDomains(service.hostname, port, workload.namespace, workload.clusterDomain);
    const vs = input.virtualServiceFor(service.hostname);
    const routes = vs ? virtualServiceRoutes(vs, input) : [defaultRoute(service, input)];
    // Created here, one at a time, so no single step converts every virtual host of the port.
    virtualHosts.push(
      create(VirtualHostSchema, {
        name: `${service.hostname}:${port}`,
        domains,
        routes,
        includeRequestAttemptCount: true,
      }),
    );
    yield;
  }
  virtualHosts.push(
    mesh.outboundTrafficPolicy === 'ALLOW_ANY'
      ? {
          name: 'allow_any',
          domains: ['*'],
          routes: [
            {
              name: 'allow_any',
              match: { pathSpecifier: { case: 'prefix', value: '/' } },
              action: {
                case: 'route',
                value: {
                  clusterSpecifier: { case: 'cluster', value: PASSTHROUGH_CLUSTER },
                  timeout: durationFromMs(0),
                },
              },
            },
          ],
          includeRequestAttemptCount: true,
        }
      : {
          name: 'block_all',
          domains: ['*'],
          routes: [
            {
              name: 'block_all',
              match: { pathSpecifier: { case: 'prefix', value: '/' } },
              action: { case: 'directResponse', value: { status: 502 } },
            },
          ],
          includeRequestAttemptCount: true,
        },
  );
  return create(RouteConfigurationSchema, { name: String(port), virtualHosts, validateClusters: false });
}

function defaultRoute(service: Service, input: RouteInputs): RouteInit {
  const resolved = input.resolveCluster(service.hostname, input.port, undefined, input.port);
  const cluster = 'cluster' in resolved ? resolved.cluster : BLACKHOLE_CLUSTER;
  const hashPolicy = input.hashPolicyFor(cluster);
  return {
    name: 'default',
    match: { pathSpecifier: { case: 'prefix', value: '/' } },
    action: {
      case: 'route',
      value: {
        clusterSpecifier: { case: 'cluster', value: cluster },
        timeout: durationFromMs(0),
        retryPolicy: retryPolicy({}, (hashPolicy?.length ?? 0) > 0),
        ...(hashPolicy?.length ? { hashPolicy } : {}),
      },
    },
  };
}

function virtualServiceRoutes(vs: VirtualService, input: RouteInputs): RouteInit[] {
  const out: RouteInit[] = [];
  const http = vs.spec.http ?? [];
  const issue = (path: (string | number)[], message: string) =>
    input.issues.push({
      source: vs.origin.source,
      line: vs.origin.locate(path),
      resource: { kind: vs.kind, namespace: vs.namespace, name: vs.name },
      path: formatPath(path),
      message,
    });
  for (let i = 0; i < http.length; i++) {
    const h = http[i]!;
    const base = ['spec', 'http', i];
    const action = routeAction(vs, h, base, input, issue);
    if (!action) continue;
    const matches: (IstioHttpMatch | undefined)[] = h.match?.length ? h.match : [undefined];
    for (const p of h.fault ? validateFault(h.fault) : []) issue([...base, 'fault', ...p.path], p.message);
    const fault = h.fault ? faultPerFilterConfig(h.fault) : undefined;
    let catchAll = false;
    for (const m of matches) {
      if (m && !matchAppliesToWorkload(m, input.port, input.workload)) continue;
      const route: RouteInit = {
        name: m?.name ? `${h.name ?? ''}.${m.name}` : (h.name ?? ''),
        match: routeMatch(m),
        action: action.action,
        ...(fault ? { typedPerFilterConfig: fault } : {}),
      };
      const authority = applyHeaders(route, h.headers);
      if (authority !== undefined && route.action?.case === 'route') {
        // The host header of `headers.request` is a host rewrite; rewrite.authority wins.
        const value = { ...route.action.value };
        value.hostRewriteSpecifier ??= { case: 'hostRewriteLiteral', value: authority };
        route.action = { case: 'route', value };
      }
      out.push(route);
      if (!m || isCatchAll(route.match!)) {
        catchAll = true;
        break;
      }
    }
    // A route without match conditions catches everything: istiod drops the routes after it.
    if (catchAll) break;
  }
  return out;
}

function routeAction(
  vs: VirtualService,
  h: IstioHttpRoute,
  base: (string | number)[],
  input: RouteInputs,
  issue: (path: (string | number)[], message: string) => void,
): { action: NonNullable<RouteInit['action']> } | undefined {
  if (h.redirect && h.directResponse) {
    issue(base, 'redirect and directResponse cannot both be set');
    return undefined;
  }
  if (h.redirect) {
    const r = h.redirect;
    return {
      action: {
        case: 'redirect',
        value: {
          ...(r.uri !== undefined
            ? { pathRewriteSpecifier: { case: 'pathRedirect' as const, value: r.uri } }
            : {}),
          ...(r.authority !== undefined ? { hostRedirect: r.authority } : {}),
          ...(r.port !== undefined ? { portRedirect: r.port } : {}),
          ...(r.scheme !== undefined
            ? { schemeRewriteSpecifier: { case: 'schemeRedirect' as const, value: r.scheme } }
            : {}),
          responseCode:
            REDIRECT_CODES[r.redirectCode ?? 301] ?? RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
        },
      },
    };
  }
  if (h.directResponse) {
    const body = h.directResponse.body;
    return {
      action: {
        case: 'directResponse',
        value: {
          status: h.directResponse.status,
          ...(body?.string !== undefined
            ? { body: { specifier: { case: 'inlineString' as const, value: body.string } } }
            : body?.bytes !== undefined
              ? {
                  body: {
                    specifier: { case: 'inlineBytes' as const, value: Buffer.from(body.bytes, 'base64') },
                  },
                }
              : {}),
        },
      },
    };
  }
  const destinations = h.route ?? [];
  if (destinations.length === 0) {
    issue(base, 'an http route needs route, redirect or directResponse');
    return undefined;
  }
  const clusters: { name: string; weight: number; headers: Headers | undefined }[] = [];
  for (let d = 0; d < destinations.length; d++) {
    const dest = destinations[d]!;
    const host = resolveShortName(dest.destination.host, vs.namespace, input.workload.clusterDomain);
    const resolved = input.resolveCluster(
      host,
      dest.destination.port?.number,
      dest.destination.subset,
      input.port,
    );
    if ('error' in resolved) {
      issue([...base, 'route', d, 'destination'], resolved.error);
      return undefined;
    }
    // With a single destination the weight is implied (Istio assumes 100).
    const weight = destinations.length === 1 ? 100 : (dest.weight ?? 0);
    if (weight > 0) clusters.push({ name: resolved.cluster, weight, headers: dest.headers });
  }
  if (clusters.length === 0) {
    issue([...base, 'route'], 'every destination has weight 0');
    return undefined;
  }
  // Envoy refuses weighted clusters whose weights add up past a uint32 (route_entry_impl.cc);
  // istiod does not check the sum, so the route would be NACKed. Say so against the rule.
  let total = 0;
  for (const c of clusters) total += c.weight;
  if (total > MAX_UINT32) {
    issue(
      [...base, 'route'],
      `the destination weights add up to ${total}, over Envoy's limit of ${MAX_UINT32}`,
    );
    return undefined;
  }
  const hashPolicy = input.hashPolicyFor(clusters[0]!.name);
  const hashing = (hashPolicy?.length ?? 0) > 0;
  const value: RouteActionInit = {
    timeout: durationFromMs(h.timeout ?? 0),
  };
  const retry = retryPolicy(h, hashing);
  if (retry) value.retryPolicy = retry;
  if (hashing && hashPolicy) value.hashPolicy = hashPolicy;
  const mirrors = mirrorPolicies(h, {
    namespace: vs.namespace,
    clusterDomain: input.workload.clusterDomain,
    listenerPort: input.port,
    resolveCluster: input.resolveCluster,
  });
  if ('problems' in mirrors) {
    for (const p of mirrors.problems) issue([...base, ...p.path], p.message);
    return undefined;
  }
  if (mirrors.policies.length > 0) value.requestMirrorPolicies = mirrors.policies;
  if (clusters.length === 1 && !clusters[0]!.headers) {
    value.clusterSpecifier = { case: 'cluster', value: clusters[0]!.name };
  } else {
    value.clusterSpecifier = {
      case: 'weightedClusters',
      value: {
        clusters: clusters.map((c) => {
          const wc: MessageInitShape<typeof WeightedCluster_ClusterWeightSchema> = {
            name: c.name,
            weight: c.weight,
          };
          const authority = applyHeaders(wc, c.headers);
          if (authority !== undefined)
            wc.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: authority };
          return wc;
        }),
      },
    };
  }
  const rw = h.rewrite;
  if (rw) {
    if (rw.uriRegexRewrite) {
      value.regexRewrite = {
        pattern: { regex: rw.uriRegexRewrite.match },
        substitution: rw.uriRegexRewrite.rewrite,
      };
    } else if (rw.uri) {
      // istiod always emits prefix_rewrite (route.go applyHTTPRouteDestination); Envoy replaces the
      // matched prefix of a prefix route and the whole path of an exact or regex route. The action
      // is shared by every match entry of the http route, so it must not depend on one of them.
      value.prefixRewrite = rw.uri;
    }
    if (rw.authority !== undefined)
      value.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: rw.authority };
  }
  return { action: { case: 'route', value } };
}
