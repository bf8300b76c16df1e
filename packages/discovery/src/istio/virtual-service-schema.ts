/** Schema of networking.istio.io VirtualService `spec` (v1, v1beta1, v1alpha3 share it). */
import { z } from 'zod';
import { isIpAddress, validateGatewayBoundDomain, validateWildcardDomain } from './host-name-validation.ts';
import { duration, headers, istioDuration, labels, percent, port, stringMatch } from './schema-common.ts';

/** istiod's validateDestination: a host name, never `*`. */
const destinationHost = z.string().check((ctx) => {
  const problem =
    ctx.value === '*' ? `invalid destination host ${ctx.value}` : validateWildcardDomain(ctx.value);
  if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

const destination = z.strictObject({
  host: destinationHost,
  subset: z.string().min(1).optional(),
  port: z.strictObject({ number: port }).optional(),
});
export type IstioDestination = z.infer<typeof destination>;

const httpMatchRequest = z.strictObject({
  name: z.string().optional(),
  uri: stringMatch.optional(),
  scheme: stringMatch.optional(),
  method: stringMatch.optional(),
  authority: stringMatch.optional(),
  headers: z.record(z.string(), stringMatch).optional(),
  port: port.optional(),
  sourceLabels: labels.optional(),
  gateways: z.array(z.string()).optional(),
  queryParams: z.record(z.string(), stringMatch).optional(),
  ignoreUriCase: z.boolean().optional(),
  withoutHeaders: z.record(z.string(), stringMatch).optional(),
  sourceNamespace: z.string().optional(),
  statPrefix: z.string().optional(),
});
export type IstioHttpMatch = z.infer<typeof httpMatchRequest>;

const routeDestination = z.strictObject({
  destination,
  // int32 in Istio's API (validateWeight refuses < 0).
  weight: z.number().int().min(0).max(2_147_483_647).optional(),
  headers: headers.optional(),
});
export type IstioRouteDestination = z.infer<typeof routeDestination>;

const redirect = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  port: port.optional(),
  derivePort: z.enum(['FROM_PROTOCOL_DEFAULT', 'FROM_REQUEST_PORT']).optional(),
  scheme: z.string().optional(),
  redirectCode: z.number().int().min(300).max(399).optional(),
});

const directResponse = z.strictObject({
  status: z.number().int().min(200).max(599),
  body: z.strictObject({ string: z.string().optional(), bytes: z.string().optional() }).optional(),
});

const rewrite = z.strictObject({
  uri: z.string().optional(),
  authority: z.string().optional(),
  uriRegexRewrite: z.strictObject({ match: z.string(), rewrite: z.string() }).optional(),
});

const retries = z.strictObject({
  attempts: z.number().int().min(0).optional(),
  perTryTimeout: istioDuration.optional(),
  retryOn: z.string().optional(),
  retryRemoteLocalities: z.boolean().optional(),
  retryIgnorePreviousHosts: z.boolean().optional(),
  backoff: istioDuration.optional(),
});

const fault = z.strictObject({
  delay: z
    .strictObject({
      fixedDelay: istioDuration.optional(),
      exponentialDelay: istioDuration.optional(),
      percentage: percent.optional(),
      percent: z.number().int().min(0).max(100).optional(),
    })
    .optional(),
  abort: z
    .strictObject({
      httpStatus: z.number().int().min(200).max(599).optional(),
      grpcStatus: z.string().optional(),
      http2Error: z.string().optional(),
      percentage: percent.optional(),
    })
    .optional(),
});

const corsPolicy = z.strictObject({
  allowOrigins: z.array(stringMatch).optional(),
  allowOrigin: z.array(z.string()).optional(),
  allowMethods: z.array(z.string()).optional(),
  allowHeaders: z.array(z.string()).optional(),
  exposeHeaders: z.array(z.string()).optional(),
  maxAge: duration.optional(),
  allowCredentials: z.boolean().optional(),
  unmatchedPreflights: z.string().optional(),
});

const httpRoute = z.strictObject({
  name: z.string().optional(),
  match: z.array(httpMatchRequest).optional(),
  route: z.array(routeDestination).optional(),
  redirect: redirect.optional(),
  directResponse: directResponse.optional(),
  delegate: z.strictObject({ name: z.string(), namespace: z.string().optional() }).optional(),
  rewrite: rewrite.optional(),
  timeout: istioDuration.optional(),
  retries: retries.optional(),
  fault: fault.optional(),
  mirror: destination.optional(),
  mirrors: z.array(z.strictObject({ destination, percentage: percent.optional() })).optional(),
  mirrorPercentage: percent.optional(),
  mirrorPercent: z.number().int().min(0).max(100).optional(),
  corsPolicy: corsPolicy.optional(),
  headers: headers.optional(),
});
export type IstioHttpRoute = z.infer<typeof httpRoute>;

/** istiod's isSniHost: some TLS route matches on `sniHosts`. */
function hasSniHosts(tls: readonly unknown[] | undefined): boolean {
  return (tls ?? []).some((route) => {
    const matches = (route as { match?: unknown } | null)?.match;
    return (
      Array.isArray(matches) &&
      matches.some(
        (m) =>
          Array.isArray((m as { sniHosts?: unknown } | null)?.sniHosts) &&
          (m as { sniHosts: unknown[] }).sniHosts.length > 0,
      )
    );
  });
}

export const virtualServiceSpec = z
  .strictObject({
    hosts: z.array(z.string()).min(1),
    gateways: z.array(z.string()).optional(),
    http: z.array(httpRoute).optional(),
    tls: z.array(z.unknown()).optional(),
    tcp: z.array(z.unknown()).optional(),
    exportTo: z.array(z.string()).optional(),
  })
  .check((ctx) => {
    // istiod's ValidateVirtualService host checks (pkg/config/validation/validation.go). A
    // VirtualService naming gateways but not `mesh` is checked as gateway-bound; otherwise it
    // binds to the mesh (sidecars), where `*` is refused. IP addresses pass either way.
    const gateways = ctx.value.gateways ?? [];
    const appliesToGateway = gateways.length > 0 && !gateways.includes('mesh');
    const sni = hasSniHosts(ctx.value.tls);
    ctx.value.hosts.forEach((host, i) => {
      const problem = appliesToGateway ? validateGatewayBoundDomain(sni, host) : validateWildcardDomain(host);
      if (problem !== undefined) {
        if (!isIpAddress(host))
          ctx.issues.push({ code: 'custom', message: problem, input: host, path: ['hosts', i] });
      } else if (!appliesToGateway && host === '*')
        ctx.issues.push({
          code: 'custom',
          message: 'wildcard host * is not allowed for virtual services bound to the mesh gateway',
          input: host,
          path: ['hosts', i],
        });
    });
  });
export type VirtualServiceSpec = z.infer<typeof virtualServiceSpec>;
