/**
 * The pure parts of the inbound side: option validation, the step chain, the inbound service a
 * request reached (Istio's inbound cluster metadata) and this workload's destination labels.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveWorkload } from '@dabba/discovery';
import type { CompiledCluster } from '../../src/compile/compile-cluster.ts';
import { ConfigError } from '../../src/errors.ts';
import { inboundDestinationLabels } from '../../src/inbound/inbound-destination-labels.ts';
import { resolveInboundOptions } from '../../src/inbound/inbound-options.ts';
import { resolveInboundService } from '../../src/inbound/inbound-service.ts';
import { composeInbound, type InboundStep } from '../../src/inbound/inbound-step.ts';
import { istioDestinationLabels, UNKNOWN_DESTINATION } from '../../src/telemetry/istio-peer-labels.ts';

describe('resolveInboundOptions', () => {
  test('defaults', () => {
    assert.deepEqual({ ...resolveInboundOptions(undefined) }, { port: undefined, maxPeers: 100 });
    assert.deepEqual({ ...resolveInboundOptions({ port: 9080, maxPeers: 5 }) }, { port: 9080, maxPeers: 5 });
  });

  test('every problem reported together', () => {
    assert.throws(
      () => resolveInboundOptions({ port: 0, maxPeers: -1, prot: 1 } as never),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'DABBA_CONFIG_INVALID');
        assert.deepEqual(err.issues.map((i) => i.path).sort(), ['maxPeers', 'port', 'prot']);
        return true;
      },
    );
  });
});

describe('composeInbound', () => {
  test('steps run in order before the listener; a step that answers stops the chain', () => {
    const order: string[] = [];
    const step =
      (name: string, stop = false): InboundStep =>
      (req, res, next) => {
        order.push(name);
        if (!stop) next(req, res);
      };
    const listener = () => order.push('app');
    composeInbound([step('a'), step('b')], listener)({} as never, {} as never);
    assert.deepEqual(order, ['a', 'b', 'app']);
    order.length = 0;
    composeInbound([step('deny', true), step('b')], listener)({} as never, {} as never);
    assert.deepEqual(order, ['deny']);
  });

  test('no steps: the listener itself, nothing added per request', () => {
    const listener = () => {};
    assert.equal(composeInbound([], listener), listener);
  });
});

function cluster(
  name: string,
  host: string | undefined,
  hosts: { port: number; labels: Record<string, string> }[],
) {
  const istioDestination =
    host === undefined
      ? UNKNOWN_DESTINATION
      : istioDestinationLabels({
          istioServices: [{ host, name: host.split('.')[0], namespace: host.split('.')[1] }],
          endpointLabels: hosts.map((h) => h.labels),
        });
  return { name, istioDestination, hosts } as unknown as CompiledCluster;
}

describe('resolveInboundService (Istio inbound cluster istio.services metadata)', () => {
  const workload = resolveWorkload({ namespace: 'default', labels: { app: 'reviews', version: 'v1' } });
  const reviews = cluster(
    'outbound|9080||reviews.default.svc.cluster.local',
    'reviews.default.svc.cluster.local',
    [
      { port: 8080, labels: { app: 'reviews', version: 'v1' } },
      { port: 8080, labels: { app: 'reviews', version: 'v2' } },
    ],
  );

  test('the service whose endpoints are this workload on the port', () => {
    assert.deepEqual(resolveInboundService([reviews], workload, 8080), {
      host: 'reviews.default.svc.cluster.local',
      name: 'reviews',
      namespace: 'default',
      port: 9080,
    });
  });

  test('another port, another workload, a subset cluster or another namespace: none', () => {
    assert.equal(resolveInboundService([reviews], workload, 9080), undefined);
    const other = resolveWorkload({ namespace: 'default', labels: { app: 'reviews', version: 'v3' } });
    assert.equal(resolveInboundService([reviews], other, 8080), undefined);
    const subset = cluster(
      'outbound|9080|v1|reviews.default.svc.cluster.local',
      'reviews.default.svc.cluster.local',
      [{ port: 8080, labels: { app: 'reviews', version: 'v1' } }],
    );
    assert.equal(resolveInboundService([subset], workload, 8080), undefined);
    const elsewhere = resolveWorkload({ namespace: 'prod', labels: { app: 'reviews', version: 'v1' } });
    assert.equal(resolveInboundService([reviews], elsewhere, 8080), undefined);
    assert.equal(resolveInboundService([reviews], resolveWorkload({}), 8080), undefined);
  });

  test('several services select the workload: the first by host name', () => {
    const alias = cluster(
      'outbound|80||a-reviews.default.svc.cluster.local',
      'a-reviews.default.svc.cluster.local',
      [{ port: 8080, labels: { app: 'reviews', version: 'v1' } }],
    );
    assert.equal(
      resolveInboundService([reviews, alias], workload, 8080)?.host,
      'a-reviews.default.svc.cluster.local',
    );
  });

  test('destination labels: the service when resolved, else the canonical service name', () => {
    const withService = inboundDestinationLabels(workload, resolveInboundService([reviews], workload, 8080));
    assert.equal(withService.destination_service, 'reviews.default.svc.cluster.local');
    assert.equal(withService.destination_service_name, 'reviews');
    const without = inboundDestinationLabels(workload, undefined);
    assert.equal(without.destination_service, 'reviews');
    assert.equal(without.destination_service_name, 'reviews');
    assert.equal(without.destination_workload, 'reviews');
    assert.equal(without.destination_canonical_revision, 'v1');
    assert.equal(without.destination_principal, 'unknown');
  });
});
