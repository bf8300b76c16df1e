/** Schema of networking.istio.io DestinationRule `spec`. */
import { z } from 'zod';
import {
  duration,
  istioDuration,
  labels,
  percent,
  port,
  wildcardDomain,
  workloadSelector,
} from './schema-common.ts';

const consistentHash = z.strictObject({
  httpHeaderName: z.string().min(1).optional(),
  httpCookie: z
    .strictObject({
      name: z.string().min(1),
      path: z.string().optional(),
      ttl: duration.optional(),
      attributes: z.array(z.strictObject({ name: z.string(), value: z.string().optional() })).optional(),
    })
    .optional(),
  useSourceIp: z.boolean().optional(),
  httpQueryParameterName: z.string().min(1).optional(),
  ringHash: z.strictObject({ minimumRingSize: z.number().int().min(1).optional() }).optional(),
  maglev: z.strictObject({ tableSize: z.number().int().min(1).optional() }).optional(),
  minimumRingSize: z.number().int().min(1).optional(),
});

const localityLbSetting = z.strictObject({
  distribute: z
    .array(z.strictObject({ from: z.string(), to: z.record(z.string(), z.number().int().min(0)) }))
    .optional(),
  failover: z.array(z.strictObject({ from: z.string(), to: z.string() })).optional(),
  failoverPriority: z.array(z.string()).optional(),
  enabled: z.boolean().optional(),
});
export type IstioLocalityLbSetting = z.infer<typeof localityLbSetting>;

const loadBalancer = z.strictObject({
  simple: z
    .enum(['UNSPECIFIED', 'LEAST_CONN', 'RANDOM', 'PASSTHROUGH', 'ROUND_ROBIN', 'LEAST_REQUEST'])
    .optional(),
  consistentHash: consistentHash.optional(),
  localityLbSetting: localityLbSetting.optional(),
  warmupDurationSecs: duration.optional(),
  warmup: z.unknown().optional(),
});
export type IstioLoadBalancer = z.infer<typeof loadBalancer>;

const connectionPool = z.strictObject({
  tcp: z
    .strictObject({
      maxConnections: z.number().int().min(0).optional(),
      connectTimeout: istioDuration.optional(),
      tcpKeepalive: z
        .strictObject({
          probes: z.number().int().min(0).optional(),
          time: istioDuration.optional(),
          interval: istioDuration.optional(),
        })
        .optional(),
      maxConnectionDuration: istioDuration.optional(),
      // istiod skips the check for 0s here: it turns the idle timeout off.
      idleTimeout: duration.optional(),
    })
    .optional(),
  http: z
    .strictObject({
      http1MaxPendingRequests: z.number().int().min(0).optional(),
      http2MaxRequests: z.number().int().min(0).optional(),
      maxRequestsPerConnection: z.number().int().min(0).optional(),
      maxRetries: z.number().int().min(0).optional(),
      idleTimeout: istioDuration.optional(),
      h2UpgradePolicy: z.enum(['DEFAULT', 'DO_NOT_UPGRADE', 'UPGRADE']).optional(),
      useClientProtocol: z.boolean().optional(),
      maxConcurrentStreams: z.number().int().min(0).optional(),
    })
    .optional(),
});
export type IstioConnectionPool = z.infer<typeof connectionPool>;

const outlierDetection = z.strictObject({
  splitExternalLocalOriginErrors: z.boolean().optional(),
  consecutiveLocalOriginFailures: z.number().int().min(0).optional(),
  consecutiveGatewayErrors: z.number().int().min(0).optional(),
  consecutive5xxErrors: z.number().int().min(0).optional(),
  consecutiveErrors: z.number().int().min(0).optional(),
  interval: istioDuration.optional(),
  baseEjectionTime: istioDuration.optional(),
  maxEjectionPercent: z.number().int().min(0).max(100).optional(),
  minHealthPercent: z.number().int().min(0).max(100).optional(),
});
export type IstioOutlierDetection = z.infer<typeof outlierDetection>;

/** ClientTLSSettings, checked as istiod's agent.ValidateTLS checks it, with its messages. */
const clientTls = z
  .strictObject({
    mode: z.enum(['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL']).optional(),
    clientCertificate: z.string().optional(),
    privateKey: z.string().optional(),
    caCertificates: z.string().optional(),
    credentialName: z.string().optional(),
    subjectAltNames: z.array(z.string()).optional(),
    sni: z.string().optional(),
    insecureSkipVerify: z.boolean().optional(),
    caCrl: z.string().optional(),
  })
  .check((ctx) => {
    const t = ctx.value;
    const fail = (message: string) => ctx.issues.push({ code: 'custom', message, input: t });
    if (t.insecureSkipVerify === true) {
      if (t.mode === 'SIMPLE' && (t.caCertificates || t.credentialName || t.subjectAltNames !== undefined))
        fail(
          'cannot specify CaCertificates or CredentialName or SubjectAltNames when InsecureSkipVerify is set true',
        );
      if (t.mode === 'MUTUAL' && (t.caCertificates || t.subjectAltNames !== undefined))
        fail('cannot specify CaCertificates or SubjectAltNames when InsecureSkipVerify is set true');
    }
    if ((t.mode === 'SIMPLE' || t.mode === 'MUTUAL') && t.credentialName) {
      if (t.clientCertificate || t.caCertificates || t.privateKey || t.caCrl)
        fail('cannot specify client certificates or CA certificate or CA CRL If credentialName is set');
      return;
    }
    if (t.mode === 'MUTUAL') {
      if (!t.clientCertificate) fail('client certificate required for mutual tls');
      if (!t.privateKey) fail('private key required for mutual tls');
    }
  });
export type IstioClientTls = z.infer<typeof clientTls>;

const portPolicy = {
  loadBalancer: loadBalancer.optional(),
  connectionPool: connectionPool.optional(),
  outlierDetection: outlierDetection.optional(),
  tls: clientTls.optional(),
};

const trafficPolicy = z.strictObject({
  ...portPolicy,
  portLevelSettings: z
    .array(z.strictObject({ port: z.strictObject({ number: port }), ...portPolicy }))
    .optional(),
  tunnel: z.unknown().optional(),
  proxyProtocol: z.unknown().optional(),
  retryBudget: z
    .strictObject({ percent: percent.optional(), minRetryConcurrency: z.number().int().min(0).optional() })
    .optional(),
});
export type IstioTrafficPolicy = z.infer<typeof trafficPolicy>;

export const destinationRuleSpec = z.strictObject({
  host: wildcardDomain,
  trafficPolicy: trafficPolicy.optional(),
  subsets: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        labels: labels.optional(),
        trafficPolicy: trafficPolicy.optional(),
      }),
    )
    .optional(),
  exportTo: z.array(z.string()).optional(),
  workloadSelector: workloadSelector.optional(),
});
export type DestinationRuleSpec = z.infer<typeof destinationRuleSpec>;
