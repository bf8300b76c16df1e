import {
  HeaderValueOption_HeaderAppendAction as AppendAction,
  type HeaderValueOption,
} from '#xds/envoy/config/core/v3/base_pb.js';
import type {
  HeaderAppendAction,
  HeaderMutationLists,
  HeaderValueOptionModel,
} from '../model/header-mutations.ts';
import type { IssueSink } from './decoded.ts';

/** The header list fields every level's message has (RouteConfiguration, VirtualHost, Route, ClusterWeight). */
export interface XdsHeaderMutationLists {
  readonly requestHeadersToAdd: readonly HeaderValueOption[];
  readonly requestHeadersToRemove: readonly string[];
  readonly responseHeadersToAdd: readonly HeaderValueOption[];
  readonly responseHeadersToRemove: readonly string[];
}

const APPEND_ACTIONS: Readonly<Record<number, HeaderAppendAction>> = {
  [AppendAction.APPEND_IF_EXISTS_OR_ADD]: 'APPEND_IF_EXISTS_OR_ADD',
  [AppendAction.ADD_IF_ABSENT]: 'ADD_IF_ABSENT',
  [AppendAction.OVERWRITE_IF_EXISTS_OR_ADD]: 'OVERWRITE_IF_EXISTS_OR_ADD',
  [AppendAction.OVERWRITE_IF_EXISTS]: 'OVERWRITE_IF_EXISTS',
};

/**
 * The four header lists of one level, checked as Envoy checks them (router/header_parser.cc):
 * `:`-prefixed and `host` headers can be neither added nor removed, a value holds no NUL, CR or
 * LF, and the deprecated `append` may not be combined with a non-default `append_action`.
 *
 * Options that add an empty value without `keep_empty_value` are left out: Envoy skips them,
 * so they do nothing (and their append action is never read).
 *
 * @param prefix field path prefix of the level, e.g. `virtualHosts[0].` (`''` for the route
 *   configuration itself).
 */
export function decodeHeaderMutationLists(
  level: XdsHeaderMutationLists,
  prefix: string,
  sink: IssueSink,
): HeaderMutationLists {
  const requestHeadersToRemove = removals(
    level.requestHeadersToRemove,
    `${prefix}requestHeadersToRemove`,
    sink,
  );
  const requestHeadersToAdd = additions(level.requestHeadersToAdd, `${prefix}requestHeadersToAdd`, sink);
  const responseHeadersToRemove = removals(
    level.responseHeadersToRemove,
    `${prefix}responseHeadersToRemove`,
    sink,
  );
  const responseHeadersToAdd = additions(level.responseHeadersToAdd, `${prefix}responseHeadersToAdd`, sink);
  return { requestHeadersToAdd, requestHeadersToRemove, responseHeadersToAdd, responseHeadersToRemove };
}

function removals(names: readonly string[], path: string, sink: IssueSink): string[] {
  names.forEach((raw, i) => {
    const name = raw.toLowerCase();
    if (name.length === 0 || name.charCodeAt(0) === 58 /* ':' */ || name === 'host')
      sink.add(`${path}[${i}]`, ':-prefixed or host headers may not be removed');
  });
  return [...names];
}

function additions(
  options: readonly HeaderValueOption[],
  path: string,
  sink: IssueSink,
): HeaderValueOptionModel[] {
  const out: HeaderValueOptionModel[] = [];
  options.forEach((option, i) => {
    const decoded = decodeOption(option, `${path}[${i}]`, sink);
    if (decoded !== undefined) out.push(decoded);
  });
  return out;
}

function decodeOption(
  option: HeaderValueOption,
  path: string,
  sink: IssueSink,
): HeaderValueOptionModel | undefined {
  const header = option.header;
  if (header === undefined) {
    sink.add(`${path}.header`, 'header is required');
    return undefined;
  }
  let valid = true;
  const name = header.key.toLowerCase();
  if (name.length === 0) {
    sink.add(`${path}.header.key`, 'header name is required');
    valid = false;
  } else if (name.charCodeAt(0) === 58 /* ':' */ || name === 'host') {
    sink.add(`${path}.header.key`, ':-prefixed or host headers may not be modified');
    valid = false;
  }
  // raw_value carries bytes when value is not valid UTF-8; Envoy copies them as they are.
  const value =
    header.value.length === 0 && header.rawValue.length > 0
      ? Buffer.from(header.rawValue).toString('latin1')
      : header.value;
  if (/[\0\r\n]/.test(value)) {
    sink.add(`${path}.header.value`, 'header value must not contain NUL, CR or LF');
    valid = false;
  }
  let action: number = option.appendAction;
  if (option.append !== undefined) {
    if (action !== AppendAction.APPEND_IF_EXISTS_OR_ADD) {
      sink.add(path, "Both append and append_action are set and it's not allowed");
      return undefined;
    }
    action = option.append ? AppendAction.APPEND_IF_EXISTS_OR_ADD : AppendAction.OVERWRITE_IF_EXISTS_OR_ADD;
  }
  if (value.length === 0 && !option.keepEmptyValue) return undefined;
  const appendAction = APPEND_ACTIONS[action];
  if (appendAction === undefined) {
    sink.add(`${path}.appendAction`, `unknown append action ${action}`);
    return undefined;
  }
  return valid ? { key: header.key, value, appendAction } : undefined;
}
