/**
 * VirtualService header operations -> Envoy request/response header mutations, as istiod
 * translates them (TranslateHeadersOperations): `set` overwrites, `add` appends, pseudo-headers
 * and `host` cannot be mutated, and a request `host` becomes an authority rewrite.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { HeaderValueOption_HeaderAppendAction } from '#xds/envoy/config/core/v3/base_pb.js';
import type { RouteSchema } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { HeaderOperations, Headers } from './schema-common.ts';

type RouteInit = MessageInitShape<typeof RouteSchema>;

/** Pseudo-headers and `host` cannot be changed as headers (route.go isInternalHeader). */
export function isInternalHeader(key: string): boolean {
  return key.startsWith(':') || key.toLowerCase() === 'host';
}

export function isAuthorityHeader(key: string): boolean {
  const k = key.toLowerCase();
  return k === ':authority' || k === 'host';
}

/**
 * Istio TranslateHeadersOperations: `set` overwrites, `add` appends; internal headers are dropped
 * from the lists, and a request `host`/`:authority` becomes a host rewrite (`set` wins over `add`).
 */
export function headerOps(ops: HeaderOperations | undefined, request: boolean) {
  const add: {
    header: { key: string; value: string };
    appendAction: HeaderValueOption_HeaderAppendAction;
  }[] = [];
  let authority: string | undefined;
  let setAuthority: string | undefined;
  for (const [key, value] of Object.entries(ops?.set ?? {})) {
    if (isAuthorityHeader(key)) setAuthority = value;
    if (isInternalHeader(key)) continue;
    add.push({
      header: { key, value },
      appendAction: HeaderValueOption_HeaderAppendAction.OVERWRITE_IF_EXISTS_OR_ADD,
    });
  }
  for (const [key, value] of Object.entries(ops?.add ?? {})) {
    if (isAuthorityHeader(key)) authority = value;
    if (isInternalHeader(key)) continue;
    add.push({
      header: { key, value },
      appendAction: HeaderValueOption_HeaderAppendAction.APPEND_IF_EXISTS_OR_ADD,
    });
  }
  return {
    add,
    remove: (ops?.remove ?? []).filter((k) => !isInternalHeader(k)),
    authority: request ? (setAuthority ?? authority) : undefined,
  };
}

export type HeaderTarget = Pick<
  RouteInit,
  'requestHeadersToAdd' | 'requestHeadersToRemove' | 'responseHeadersToAdd' | 'responseHeadersToRemove'
>;

/** Applies header operations; returns the authority a request `host` header asks for, if any. */
export function applyHeaders(target: HeaderTarget, headers: Headers | undefined): string | undefined {
  if (!headers) return undefined;
  const req = headerOps(headers.request, true);
  const res = headerOps(headers.response, false);
  if (req.add.length) target.requestHeadersToAdd = req.add;
  if (req.remove.length) target.requestHeadersToRemove = req.remove;
  if (res.add.length) target.responseHeadersToAdd = res.add;
  if (res.remove.length) target.responseHeadersToRemove = res.remove;
  return req.authority;
}
