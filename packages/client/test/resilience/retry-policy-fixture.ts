/**
 * Retry policies for tests, written as proto3 JSON and decoded through the same RouteConfiguration
 * decoder real configuration goes through.
 */
import assert from 'node:assert/strict';
import { create, fromJson, type JsonValue } from '@bufbuild/protobuf';
import { decodeRouteConfiguration, type RetryPolicy, RouteConfigurationSchema } from '@dabba/discovery';
import {
  type CompiledRetryPolicy,
  compileRetryPolicy as compileDecodedRetryPolicy,
} from '../../src/resilience/retry-policy.ts';
import { MatcherCompileError } from '../route/matcher-compile-error.ts';

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

// The decoder reports a virtual host's retry policy at this path; the tests name it `retryPolicy`.
const VHOST = 'virtualHosts[0].';

/**
 * An xDS RetryPolicy decoded (as a virtual host's) and compiled; undefined for none.
 *
 * @throws MatcherCompileError for the first issue the decoder reports, its path starting at
 *   `retryPolicy`.
 */
export function compileRetryPolicy(xds: RetryPolicy | undefined): CompiledRetryPolicy | undefined {
  if (xds === undefined) return undefined;
  const config = create(RouteConfigurationSchema, {
    virtualHosts: [{ name: 'vh', domains: ['*'], retryPolicy: xds }],
  });
  const decoded = decodeRouteConfiguration(config, 'test');
  if (!decoded.ok) {
    const first = decoded.issues[0]!;
    throw new MatcherCompileError(first.path.slice(VHOST.length), first.message);
  }
  return compileDecodedRetryPolicy(decoded.value.virtualHosts[0]!.retryPolicy);
}

/** The compiled form of {@link retryPolicyFromJson}; fails the test when it compiles to none. */
export function compiledRetryPolicy(json: Record<string, JsonValue>): CompiledRetryPolicy {
  const p = compileRetryPolicy(retryPolicyFromJson(json));
  assert.ok(p !== undefined);
  return p;
}
