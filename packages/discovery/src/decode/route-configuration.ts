/**
 * The RouteConfiguration decoder: an xDS RouteConfiguration in, a frozen
 * {@link RouteConfigurationModel} or every issue with its field path out. An xDS client NACKs
 * with these issues; the data plane compiles only models.
 */
import type { RouteConfiguration } from '#xds/envoy/config/route/v3/route_pb.js';
import type { RouteConfigurationModel, VirtualHostModel } from '../model/route-configuration.ts';
import { type Decoded, IssueSink } from './decoded.ts';
import { deepFreeze } from './deep-freeze.ts';
import { DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES } from './direct-response.ts';
import { decodeHeaderMutationLists } from './header-mutations.ts';
import { decodeVirtualHostSteps } from './virtual-host.ts';
import { validateVirtualHostDomainsSteps } from './virtual-host-domains.ts';

/**
 * Decodes and checks a whole RouteConfiguration, reporting every problem found. Refused besides
 * what the parts refuse: `ignore_path_parameters_in_path_matching`. Not kept because they
 * concern a downstream listener or a runtime Dabba does not have: `vhds`,
 * `internal_only_headers`, `validate_clusters`, cluster specifier plugins, per-filter configs
 * other than the fault filter's.
 *
 * @param source where the resource came from (a file, an xDS server), for the issues.
 */
export function decodeRouteConfiguration(
  config: RouteConfiguration,
  source: string,
): Decoded<RouteConfigurationModel> {
  const steps = decodeRouteConfigurationSteps(config, source);
  let step = steps.next();
  while (!step.done) step = steps.next();
  return step.value;
}

/**
 * {@link decodeRouteConfiguration} as steps, for a caller that works in slices: the same work
 * in the same order, yielding after each virtual host and inside large ones. Nothing here reads
 * the clock; the driver decides whether to pause at a yield.
 */
export function* decodeRouteConfigurationSteps(
  config: RouteConfiguration,
  source: string,
): Generator<void, Decoded<RouteConfigurationModel>, void> {
  const sink = new IssueSink(source, { kind: 'RouteConfiguration', name: config.name });
  if (config.ignorePathParametersInPathMatching)
    sink.add('ignorePathParametersInPathMatching', 'not supported by Dabba');
  const lists = decodeHeaderMutationLists(config, '', sink);
  const maxBody = config.maxDirectResponseBodySizeBytes ?? DEFAULT_MAX_DIRECT_RESPONSE_BODY_BYTES;
  const virtualHosts: VirtualHostModel[] = [];
  for (let v = 0; v < config.virtualHosts.length; v++) {
    virtualHosts.push(
      yield* decodeVirtualHostSteps(config.virtualHosts[v]!, `virtualHosts[${v}]`, maxBody, sink),
    );
    yield;
  }
  yield* validateVirtualHostDomainsSteps(virtualHosts, 'virtualHosts', sink);
  return sink.result(
    deepFreeze({
      name: config.name,
      virtualHosts,
      mostSpecificHeaderMutationsWins: config.mostSpecificHeaderMutationsWins,
      ignorePortInHostMatching: config.ignorePortInHostMatching,
      ...lists,
    }),
  );
}
