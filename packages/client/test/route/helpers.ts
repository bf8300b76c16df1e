import { CoreErrorCode, DabbaError } from '@dabba/core';
import {
  decodeRouteConfiguration,
  decodeRouteConfigurationSteps,
  type RouteConfiguration,
  type RouteConfigurationModel,
} from '@dabba/discovery';
import { MatchContext, type RandomValueSource, type RequestView } from '../../src/route/match/index.ts';
import {
  compileRouteTable as compileDecodedRouteTable,
  compileRouteTableSteps as compileDecodedRouteTableSteps,
  type RouteTable,
  type RouteTableOptions,
} from '../../src/route/route-table.ts';

/** A request view for tests: `url` is path[?query], headers as a plain object. */
export function ctx(
  url: string,
  headers: Record<string, string | string[]> = {},
  extra: { method?: string; authority?: string; scheme?: string; random?: RandomValueSource } = {},
): MatchContext {
  const q = url.indexOf('?');
  const view: RequestView = {
    method: extra.method ?? 'GET',
    scheme: extra.scheme ?? 'http',
    authority: extra.authority ?? 'reviews:9080',
    path: q === -1 ? url : url.slice(0, q),
    query: q === -1 ? '' : url.slice(q + 1),
    headers,
  };
  return new MatchContext(view, extra.random);
}

/** One issue of a RouteConfiguration the decoder refused. */
export interface RouteConfigIssue {
  readonly path: string;
  readonly message: string;
}

/**
 * What the route table helpers below throw when the decoder refuses a RouteConfiguration:
 * every issue, in the decoder's order, and the first one's path.
 */
export class RouteConfigError extends DabbaError {
  readonly resource: string;
  readonly issues: readonly RouteConfigIssue[];
  readonly path: string;

  constructor(resource: string, issues: readonly RouteConfigIssue[]) {
    const first = issues[0] ?? { path: '', message: 'invalid route configuration' };
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
    super(`RouteConfiguration "${resource}": ${first.path}: ${first.message}${more}`, {
      code: CoreErrorCode.CONFIG_INVALID,
    });
    this.resource = resource;
    this.issues = issues.map(({ path, message }) => ({ path, message }));
    this.path = first.path;
  }
}

/** The decoded model of `config`, as the snapshot compiler gets it. @throws RouteConfigError */
export function decodeRoutes(config: RouteConfiguration): RouteConfigurationModel {
  const decoded = decodeRouteConfiguration(config, 'test');
  if (!decoded.ok) throw new RouteConfigError(config.name, decoded.issues);
  return decoded.value;
}

/** A route table from an xDS RouteConfiguration: decoded, then compiled. @throws RouteConfigError */
export function compileRouteTable(config: RouteConfiguration, options: RouteTableOptions = {}): RouteTable {
  return compileDecodedRouteTable(decodeRoutes(config), options);
}

/**
 * {@link compileRouteTable} in steps, the decoder's and then the compiler's, as the snapshot
 * compiler runs them. @throws RouteConfigError once the decoder has seen the whole resource.
 */
export function* compileRouteTableSteps(
  config: RouteConfiguration,
  options: RouteTableOptions = {},
): Generator<void, RouteTable, void> {
  const decoded = yield* decodeRouteConfigurationSteps(config, 'test');
  if (!decoded.ok) throw new RouteConfigError(config.name, decoded.issues);
  return yield* compileDecodedRouteTableSteps(decoded.value, options);
}
