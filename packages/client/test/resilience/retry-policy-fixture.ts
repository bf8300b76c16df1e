/**
 * Retry policies for tests, written as proto3 JSON and decoded through the same RouteConfiguration
 * decoder real configuration goes through.
 */
import assert from 'node:assert/strict';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { type RetryPolicy, RouteConfigurationSchema } from '@dabba/discovery';
import { type CompiledRetryPolicy, compileRetryPolicy } from '../../src/resilience/retry-policy.ts';

/** An xDS RetryPolicy from its proto3 JSON. */
export function retryPolicyFromJson(json: Record<string, JsonValue>): RetryPolicy {
  const rc = fromJson(RouteConfigurationSchema, {
    virtualHosts: [
      {
        name: 'vh',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster: 'c', retryPolicy: json } }],
      },
    ],
  });
  const action = rc.virtualHosts[0]?.routes[0]?.action;
  assert.ok(action?.case === 'route' && action.value.retryPolicy !== undefined);
  return action.value.retryPolicy;
}

/** The compiled form of {@link retryPolicyFromJson}; fails the test when it compiles to none. */
export function compiledRetryPolicy(json: Record<string, JsonValue>): CompiledRetryPolicy {
  const p = compileRetryPolicy(retryPolicyFromJson(json));
  assert.ok(p !== undefined);
  return p;
}
