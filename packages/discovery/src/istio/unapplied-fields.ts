/**
 * Istio fields Dabba accepts and translates into the snapshot (as istiod would) but whose
 * behaviour its data plane does not carry out yet. Each one present in a resource is reported
 * as a notice, so an accepted setting is never silently without effect.
 */
import type { ConfigIssue } from '../errors.ts';
import { type DestinationRule, formatPath, type VirtualService } from './istio-resource.ts';

// `timeout` and `retries` are enforced by the client's router (route timeout, per-try timeout,
// retries with backoff), `fault` by its fault injection and `mirror`/`mirrors` by its request
// mirroring, so they raise no notice.
const HTTP_ROUTE_FIELDS = ['corsPolicy'] as const;
// `tls` is applied (TLS origination, translate-tls.ts); what of it cannot be is a warning below.
const TRAFFIC_POLICY_FIELDS = ['proxyProtocol', 'tunnel'] as const;
// `outlierDetection` raises none either: the client ejects hosts (consecutive 5xx, gateway and
// local-origin errors) and Istio's locality failover priorities follow from it.
// Connection pool settings the endpoint pools apply (connectTimeout, idleTimeout,
// maxRequestsPerConnection, h2UpgradePolicy, useClientProtocol) are left out: they take effect.
// So are the circuit breakers the client enforces (maxConnections, http1MaxPendingRequests,
// http2MaxRequests, maxRetries).
const UNAPPLIED_TCP = ['tcpKeepalive', 'maxConnectionDuration'] as const;
const UNAPPLIED_HTTP = ['maxConcurrentStreams'] as const;

function notice(r: VirtualService | DestinationRule, path: (string | number)[], field: string): ConfigIssue {
  return {
    source: r.origin.source,
    line: r.origin.locate(path),
    resource: { kind: r.kind, namespace: r.namespace, name: r.name },
    path: formatPath(path),
    message: `accepted and translated, but ${field} is not enforced by this version of Dabba`,
  };
}

export function unappliedVirtualServiceFields(vs: VirtualService): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  (vs.spec.http ?? []).forEach((h, i) => {
    for (const field of HTTP_ROUTE_FIELDS)
      if (h[field] !== undefined) out.push(notice(vs, ['spec', 'http', i, field], field));
  });
  if (vs.spec.tcp?.length) out.push(notice(vs, ['spec', 'tcp'], 'tcp routing'));
  if (vs.spec.tls?.length) out.push(notice(vs, ['spec', 'tls'], 'tls routing'));
  return out;
}

function warning(r: DestinationRule, path: (string | number)[], message: string): ConfigIssue {
  return {
    source: r.origin.source,
    line: r.origin.locate(path),
    resource: { kind: r.kind, namespace: r.namespace, name: r.name },
    path: formatPath(path),
    message,
    severity: 'warning',
  };
}

/** TLS settings whose traffic is refused rather than sent: said when the rule is read. */
function tlsWarnings(
  dr: DestinationRule,
  path: (string | number)[],
  tls: Record<string, unknown> | undefined,
) {
  const out: ConfigIssue[] = [];
  if (tls === undefined) return out;
  if (tls.mode === 'ISTIO_MUTUAL')
    out.push(
      warning(
        dr,
        [...path, 'mode'],
        "ISTIO_MUTUAL needs this workload's mesh identity, which this version of Dabba does not have yet: requests to it are refused (DABBA_MTLS_UNAVAILABLE), never sent in clear",
      ),
    );
  if (typeof tls.credentialName === 'string' && tls.credentialName !== '')
    out.push(
      warning(
        dr,
        [...path, 'credentialName'],
        'credentialName names a Kubernetes secret, which Dabba does not read: requests to it are refused (DABBA_UPSTREAM_TLS_UNAVAILABLE); name the certificate files (caCertificates, clientCertificate, privateKey) instead',
      ),
    );
  return out;
}

export function unappliedDestinationRuleFields(dr: DestinationRule): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  const policies: { path: (string | number)[]; policy: Record<string, unknown> | undefined }[] = [
    { path: ['spec', 'trafficPolicy'], policy: dr.spec.trafficPolicy },
    ...(dr.spec.subsets ?? []).map((s, i) => ({
      path: ['spec', 'subsets', i, 'trafficPolicy'],
      policy: s.trafficPolicy,
    })),
  ];
  for (const { path, policy } of policies) {
    if (!policy) continue;
    for (const field of TRAFFIC_POLICY_FIELDS) {
      if (policy[field] !== undefined) out.push(notice(dr, [...path, field], field));
    }
    out.push(...tlsWarnings(dr, [...path, 'tls'], policy.tls as Record<string, unknown> | undefined));
    const portLevel = (policy.portLevelSettings ?? []) as { tls?: Record<string, unknown> }[];
    portLevel.forEach((p, i) => {
      out.push(...tlsWarnings(dr, [...path, 'portLevelSettings', i, 'tls'], p.tls));
    });
    const pool = policy.connectionPool as
      | { tcp?: Record<string, unknown>; http?: Record<string, unknown> }
      | undefined;
    for (const field of UNAPPLIED_TCP) {
      if (pool?.tcp?.[field] !== undefined)
        out.push(notice(dr, [...path, 'connectionPool', 'tcp', field], field));
    }
    for (const field of UNAPPLIED_HTTP) {
      if (pool?.http?.[field] !== undefined)
        out.push(notice(dr, [...path, 'connectionPool', 'http', field], field));
    }
  }
  return out;
}
