import type { RouteAction_HashPolicy } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { HashPolicyModel } from '../model/hash-policy.ts';
import type { IssueSink } from './decoded.ts';
import { optionalDurationMs } from './duration.ts';

/**
 * One RouteAction.hash_policy entry; undefined when it has no policy specifier or asks for a
 * header `regex_rewrite`, which Dabba does not apply (hashing the raw value would pick other
 * hosts than Envoy).
 *
 * @param path field path of the HashPolicy.
 */
export function decodeHashPolicy(
  hp: RouteAction_HashPolicy,
  path: string,
  sink: IssueSink,
): HashPolicyModel | undefined {
  const terminal = hp.terminal;
  const s = hp.policySpecifier;
  switch (s.case) {
    case 'header':
      if (s.value.regexRewrite !== undefined) {
        sink.add(`${path}.header.regexRewrite`, 'not supported by Dabba');
        return undefined;
      }
      return { kind: 'header', headerName: s.value.headerName, terminal };
    case 'cookie':
      return {
        kind: 'cookie',
        name: s.value.name,
        ttlMs: optionalDurationMs(s.value.ttl),
        path: s.value.path,
        terminal,
      };
    case 'connectionProperties':
      return { kind: 'connectionProperties', sourceIp: s.value.sourceIp, terminal };
    case 'queryParameter':
      return { kind: 'queryParameter', name: s.value.name, terminal };
    case 'filterState':
      return { kind: 'filterState', key: s.value.key, terminal };
    case undefined:
      sink.add(path, 'one of header, cookie, connectionProperties, queryParameter, filterState is required');
      return undefined;
  }
}
