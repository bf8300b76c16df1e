/**
 * Settings Dabba translates but does not enforce yet are reported as notices naming the field,
 * so accepting a configuration never hides that part of it has no effect.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { REVIEWS, translateYaml } from './fixtures/istio-helpers.ts';

it('a VirtualService corsPolicy and a DestinationRule maxConnectionDuration each get a notice with their path; retries, timeout, fault and mirror, enforced, get none', () => {
  const t = translateYaml(`${REVIEWS}apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
  - timeout: 2s
    retries: { attempts: 3 }
    fault: { abort: { httpStatus: 503, percentage: { value: 10 } } }
    mirror: { host: reviews }
    mirrors: [{ destination: { host: reviews, subset: v2 } }]
    corsPolicy: { allowOrigins: [{ exact: https://example.com }] }
    route: [{ destination: { host: reviews } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews-pool }
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 10, connectTimeout: 1s, maxConnectionDuration: 30s }
      http: { idleTimeout: 10s }
`);
  assert.deepEqual(t.issues, []);
  const paths = t.notices
    .filter((n) => /not enforced/.test(n.message))
    .map((n) => `${n.resource?.kind} ${n.path}`);
  assert.deepEqual(paths.sort(), [
    'DestinationRule spec.trafficPolicy.connectionPool.tcp.maxConnectionDuration',
    'VirtualService spec.http[0].corsPolicy',
  ]);
});

it('settings the data plane applies (connectTimeout, idleTimeout, circuit breakers, outlierDetection) raise no such notice', () => {
  const t = translateYaml(`${REVIEWS}apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews-pool }
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: { connectTimeout: 1s, maxConnections: 10 }
      http: { idleTimeout: 10s, maxRequestsPerConnection: 5, http1MaxPendingRequests: 5, http2MaxRequests: 20, maxRetries: 3 }
    outlierDetection: { consecutive5xxErrors: 3, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 50 }
  subsets:
  - name: v1
    labels: { version: v1 }
    trafficPolicy: { outlierDetection: { consecutiveGatewayErrors: 2 } }
`);
  assert.deepEqual(
    t.notices.filter((n) => /not enforced/.test(n.message)),
    [],
  );
});
