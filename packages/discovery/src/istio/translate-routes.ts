/**
 * HTTP route configurations, one per outbound port, built from VirtualServices the way istiod
 * builds them for a sidecar: a virtual host per service on that port with the domains Istio
 * generates, VirtualService http routes in order (each `match` entry its own Envoy route), a
 * default route for services without a VirtualService, and the `allow_any`/`block_all` catch-all.
 */
import { create, type MessageInitShape } from '@bufbuild/protobuf';
import { HeaderValueOption_HeaderAppendAction } from '#xds/envoy/config/core/v3/base_pb.js';
import {
  type HeaderMatcherSchema,
  type QueryParameterMatcherSchema,
  RedirectAction_RedirectResponseCode,
  type RetryPolicySchema,
  type RouteActionSchema,
  type RouteMatchSchema,
  type RouteSchema,
  type VirtualHostSchema,
  type WeightedCluster_ClusterWeightSchema,
} from '#xds/envoy/config/route/v3/route_components_pb.js';
import { type RouteConfiguration, RouteConfigurationSchema } from '#xds/envoy/config/route/v3/route_pb.js';
import type { StringMatcherSchema } from '#xds/envoy/type/matcher/v3/string_pb.js';
import type { ConfigIssue } from '../errors.ts';
import type { Workload } from '../workload.ts';
import { resolveShortName, virtualHostDomains } from './host-names.ts';
import { formatPath, type VirtualService } from './istio-resource.ts';
import { BLACKHOLE_CLUSTER, type MeshConfig, PASSTHROUGH_CLUSTER } from './mesh-config.ts';
import { durationFromMs } from './proto-values.ts';
import type { HeaderOperations, Headers, StringMatch } from './schema-common.ts';
import type { Service } from './service-registry.ts';
import type { IstioHttpMatch, IstioHttpRoute } from './virtual-service-schema.ts';

type RouteInit = MessageInitShape<typeof RouteSchema>;
type RouteActionInit = MessageInitShape<typeof RouteActionSchema>;
type VirtualHostInit = MessageInitShape<typeof VirtualHostSchema>;

/** Istio's retry policy for routes whose VirtualService sets none (pilot DefaultPolicy). */
export const ISTIO_DEFAULT_RETRY_ON =
  'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';
export const ISTIO_DEFAULT_RETRY_ATTEMPTS = 2;

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

function stringMatcher(
  m: StringMatch,
  ignoreCase = false,
): MessageInitShape<typeof StringMatcherSchema> | undefined {
  if (m.exact !== undefined) return { matchPattern: { case: 'exact', value: m.exact }, ignoreCase };
  if (m.prefix !== undefined) return { matchPattern: { case: 'prefix', value: m.prefix }, ignoreCase };
  if (m.regex !== undefined) return { matchPattern: { case: 'safeRegex', value: { regex: m.regex } } };
  return undefined;
}

function headerMatcher(
  name: string,
  m: StringMatch,
  invert: boolean,
): MessageInitShape<typeof HeaderMatcherSchema> {
  const sm = stringMatcher(m);
  return {
    name: name.toLowerCase(),
    invertMatch: invert,
    // An empty StringMatch means "the header is present", as Istio translates it.
    headerMatchSpecifier: sm ? { case: 'stringMatch', value: sm } : { case: 'presentMatch', value: true },
  };
}

function routeMatch(m: IstioHttpMatch | undefined): MessageInitShape<typeof RouteMatchSchema> {
  const out: MessageInitShape<typeof RouteMatchSchema> = { pathSpecifier: { case: 'prefix', value: '/' } };
  const headers: MessageInitShape<typeof HeaderMatcherSchema>[] = [];
  const queryParameters: MessageInitShape<typeof QueryParameterMatcherSchema>[] = [];
  if (!m) return out;
  if (m.uri) {
    if (m.uri.exact !== undefined) out.pathSpecifier = { case: 'path', value: m.uri.exact };
    else if (m.uri.prefix !== undefined) out.pathSpecifier = { case: 'prefix', value: m.uri.prefix };
    else if (m.uri.regex !== undefined)
      out.pathSpecifier = { case: 'safeRegex', value: { regex: m.uri.regex } };
  }
  if (m.ignoreUriCase) out.caseSensitive = false;
  for (const [name, value] of Object.entries(m.headers ?? {}))
    headers.push(headerMatcher(name, value, false));
  for (const [name, value] of Object.entries(m.withoutHeaders ?? {}))
    headers.push(headerMatcher(name, value, true));
  if (m.authority) headers.push(headerMatcher(':authority', m.authority, false));
  if (m.method) headers.push(headerMatcher(':method', m.method, false));
  if (m.scheme) headers.push(headerMatcher(':scheme', m.scheme, false));
  for (const [name, value] of Object.entries(m.queryParams ?? {})) {
    const sm = stringMatcher(value);
    queryParameters.push({
      name,
      queryParameterMatchSpecifier: sm
        ? { case: 'stringMatch', value: sm }
        : { case: 'presentMatch', value: true },
    });
  }
  if (headers.length) out.headers = headers;
  if (queryParameters.length) out.queryParameters = queryParameters;
  return out;
}

function headerOps(ops: HeaderOperations | undefined) {
  const add: {
    header: { key: string; value: string };
    appendAction: HeaderValueOption_HeaderAppendAction;
  }[] = [];
  for (const [key, value] of Object.entries(ops?.set ?? {})) {
    add.push({
      header: { key, value },
      appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    });
  }
  for (const [key, value] of Object.entries(ops?.add ?? {})) {
    add.push({
      header: { key, value },
      appendAction: HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD,
    });
  }
  return { add, remove: ops?.remove ?? [] };
}

type HeaderTarget = Pick<
  RouteInit,
  'requestHeadersToAdd' | 'requestHeadersToRemove' | 'responseHeadersToAdd' | 'responseHeadersToRemove'
>;

function applyHeaders(target: HeaderTarget, headers: Headers | undefined): void {
  if (!headers) return;
  const req = headerOps(headers.request);
  const res = headerOps(headers.response);
  if (req.add.length) target.requestHeadersToAdd = req.add;
  if (req.remove.length) target.requestHeadersToRemove = req.remove;
  if (res.add.length) target.responseHeadersToAdd = res.add;
  if (res.remove.length) target.responseHeadersToRemove = res.remove;
}

const REDIRECT_CODES: Record<number, RedirectAction_RedirectResponseCode> = {
  301: RedirectAction_RedirectResponseCode.MOVED_PERMANENTLY,
  302: RedirectAction_RedirectResponseCode.FOUND,
  303: RedirectAction_RedirectResponseCode.SEE_OTHER,
  307: RedirectAction_RedirectResponseCode.TEMPORARY_REDIRECT,
  308: RedirectAction_RedirectResponseCode.PERMANENT_REDIRECT,
};

function retryPolicy(
  http: IstioHttpRoute,
  hashing: boolean,
): MessageInitShape<typeof RetryPolicySchema> | undefined {
  const r = http.retries;
  if (r && r.attempts === 0) return undefined; // attempts 0 disables retries (Istio)
  const policy: MessageInitShape<typeof RetryPolicySchema> = {
    retryOn: r?.retryOn ?? ISTIO_DEFAULT_RETRY_ON,
    numRetries: r?.attempts ?? ISTIO_DEFAULT_RETRY_ATTEMPTS,
    hostSelectionRetryMaxAttempts: 5n,
    // Istio's default previous-hosts predicate; it would break stickiness with consistent hashing.
    retryHostPredicate: hashing ? [] : [{ name: 'envoy.retry_host_predicates.previous_hosts' }],
  };
  if (r?.perTryTimeout !== undefined) policy.perTryTimeout = durationFromMs(r.perTryTimeout);
  if (r?.backoff !== undefined) policy.retryBackOff = { baseInterval: durationFromMs(r.backoff) };
  if (r?.retryRemoteLocalities) policy.retryPriority = { name: 'envoy.retry_priorities.previous_priorities' };
  return policy;
}

/** Builds the RouteConfiguration named after the port (istiod names it `"<port>"`). */
export function translateRoutes(input: RouteInputs): RouteConfiguration {
  const { port, workload, mesh } = input;
  const virtualHosts: VirtualHostInit[] = [];
  for (const service of input.services) {
    const domains = virtualHostDomains(service.hostname, port, workload.namespace, workload.clusterDomain);
    const vs = input.virtualServiceFor(service.hostname);
    const routes = vs ? virtualServiceRoutes(vs, input) : [defaultRoute(service, input)];
    virtualHosts.push({
      name: `${service.hostname}:${port}`,
      domains,
      routes,
      includeRequestAttemptCount: true,
    });
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
    let catchAll = false;
    for (const m of matches) {
      if (m && !matchAppliesToWorkload(m, input.port, input.workload)) continue;
      const route: RouteInit = {
        name: m?.name ? `${h.name ?? ''}.${m.name}` : (h.name ?? ''),
        match: routeMatch(m),
        action: action.action,
      };
      applyHeaders(route, h.headers);
      out.push(route);
      if (!m) catchAll = true;
    }
    // A route without match conditions catches everything: istiod drops the routes after it.
    if (catchAll) break;
  }
  return out;
}

function matchAppliesToWorkload(m: IstioHttpMatch, port: number, workload: Workload): boolean {
  if (m.port !== undefined && m.port !== port) return false;
  if (m.gateways && m.gateways.length > 0 && !m.gateways.includes('mesh')) return false;
  if (m.sourceNamespace !== undefined && m.sourceNamespace !== workload.namespace) return false;
  for (const [k, v] of Object.entries(m.sourceLabels ?? {})) if (workload.labels[k] !== v) return false;
  return true;
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
  const hashPolicy = input.hashPolicyFor(clusters[0]!.name);
  const hashing = (hashPolicy?.length ?? 0) > 0;
  const value: RouteActionInit = {
    timeout: durationFromMs(h.timeout ?? 0),
  };
  const retry = retryPolicy(h, hashing);
  if (retry) value.retryPolicy = retry;
  if (hashing && hashPolicy) value.hashPolicy = hashPolicy;
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
          applyHeaders(wc, c.headers);
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
    } else if (rw.uri !== undefined) {
      const exactOrRegex = h.match?.some((m) => m.uri?.exact !== undefined || m.uri?.regex !== undefined);
      // Istio replaces the matched prefix for prefix matches and the whole path otherwise.
      if (exactOrRegex) value.regexRewrite = { pattern: { regex: '^.*$' }, substitution: rw.uri };
      else value.prefixRewrite = rw.uri;
    }
    if (rw.authority !== undefined)
      value.hostRewriteSpecifier = { case: 'hostRewriteLiteral', value: rw.authority };
  }
  return { action: { case: 'route', value } };
}
