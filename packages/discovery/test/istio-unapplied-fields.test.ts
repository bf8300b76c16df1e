/**
 * Settings Dabba translates but does not enforce yet are reported as notices naming the field,
 * so accepting a configuration never hides that part of it has no effect.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { REVIEWS, translateYaml } from './fixtures/istio-helpers.ts';

it('a VirtualService mirror and a DestinationRule maxConnections each get a notice with their path; retries, timeout and fault, enforced, get none', () => {
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
    route: [{ destination: { host: reviews } }]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews-pool }
spec:
  host: reviews
  trafficPolicy:
    connectionPool:
      tcp: { maxConnections: 10, connectTimeout: 1s }
      http: { idleTimeout: 10s }
`);
  assert.deepEqual(t.issues, []);
  const paths = t.notices
    .filter((n) => /not enforced/.test(n.message))
    .map((n) => `${n.resource?.kind} ${n.path}`);
  assert.deepEqual(paths.sort(), [
    'DestinationRule spec.trafficPolicy.connectionPool.tcp.maxConnections',
    'VirtualService spec.http[0].mirror',
  ]);
});

it('settings the data plane applies (connectTimeout, idleTimeout, outlierDetection) raise no such notice', () => {
  const t = translateYaml(`${REVIEWS}apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: reviews-pool }
spec:
  host: reviews
  trafficPolicy:
    connectionPool: { tcp: { connectTimeout: 1s }, http: { idleTimeout: 10s, maxRequestsPerConnection: 5 } }
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
