/**
 * Fault configs for tests: an `envoy.filters.http.fault` typed_per_filter_config value, decoded
 * through the RouteConfiguration decoder (as a virtual host's config) and compiled.
 */
import { create } from '@bufbuild/protobuf';
import type { Any } from '@bufbuild/protobuf/wkt';
import { ConfigError, decodeRouteConfiguration, RouteConfigurationSchema } from '@dabba/discovery';
import { type CompiledFault, compileFault as compileDecodedFault } from '../../src/resilience/fault.ts';

const FAULT_FILTER = 'envoy.filters.http.fault';

/** The compiled fault of a per-filter config; undefined for none. @throws ConfigError */
export function compileFault(any: Any | undefined): CompiledFault | undefined {
  if (any === undefined) return undefined;
  const config = create(RouteConfigurationSchema, {
    virtualHosts: [{ name: 'vh', domains: ['*'], typedPerFilterConfig: { [FAULT_FILTER]: any } }],
  });
  const decoded = decodeRouteConfiguration(config, 'test');
  if (!decoded.ok) throw new ConfigError(decoded.issues);
  return compileDecodedFault(decoded.value.virtualHosts[0]!.fault);
}
