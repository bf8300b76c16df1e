/**
 * Envoy's route hash policy (RouteAction.hash_policy): the request hash that consistent-hashing
 * load balancers (RING_HASH, MAGLEV) use. Policies are evaluated in order; each hash found is
 * combined with the running value by rotating it left one bit and XOR-ing, and a `terminal`
 * policy that produced a hash stops evaluation (router/config_impl.cc HashPolicyImpl).
 */
import { networkInterfaces } from 'node:os';
import { xxHash64 } from '../lb/hash.ts';
import type { HashPolicy } from '../route/route-action.ts';

/** What a hash policy may read from a request. */
export interface HashInput {
  /** All values of a header by lowercase name. */
  values(name: string): readonly string[] | undefined;
  /** Raw query string without `?`. */
  readonly query: string;
}

export type RequestHasher = (input: HashInput) => bigint | undefined;

const MASK_64 = (1n << 64n) - 1n;

/**
 * The "source IP" of requests this process makes: Envoy hashes the downstream address, which for
 * an in-process client is this host. Computed once.
 */
let sourceIp: string | undefined;
function localSourceIp(): string {
  sourceIp ??= firstExternalIpv4() ?? '127.0.0.1';
  return sourceIp;
}

function firstExternalIpv4(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? []) if (!info.internal && info.family === 'IPv4') return info.address;
  }
  return undefined;
}

function cookieValue(request: HashInput, name: string): string | undefined {
  for (const line of request.values('cookie') ?? []) {
    for (const part of line.split(';')) {
      const eq = part.indexOf('=');
      if (eq < 0) continue;
      if (part.slice(0, eq).trim() === name) {
        const v = part.slice(eq + 1).trim();
        return v.startsWith('"') && v.endsWith('"') && v.length >= 2 ? v.slice(1, -1) : v;
      }
    }
  }
  return undefined;
}

function queryValue(query: string, name: string): string | undefined {
  if (query === '') return undefined;
  // Envoy takes the first occurrence and does not percent-decode (http/utility.cc parseQueryString).
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return eq < 0 ? '' : pair.slice(eq + 1);
  }
  return undefined;
}

type Method = { evaluate: (input: HashInput) => bigint | undefined; terminal: boolean };

function methodOf(policy: HashPolicy): Method | undefined {
  const terminal = policy.terminal;
  switch (policy.kind) {
    case 'header': {
      const name = policy.headerName.toLowerCase();
      return {
        terminal,
        evaluate: (request) => {
          const values = request.values(name);
          if (!values || values.length === 0) return undefined;
          // Sorted so that the order values arrive in does not change the hash (HeaderHashMethod).
          return xxHash64(values.length === 1 ? values[0]! : [...values].sort().join(''));
        },
      };
    }
    case 'cookie': {
      const name = policy.name;
      return {
        terminal,
        evaluate: (request) => {
          const v = cookieValue(request, name);
          return v === undefined ? undefined : xxHash64(v);
        },
      };
    }
    case 'queryParameter': {
      const name = policy.name;
      return {
        terminal,
        evaluate: (request) => {
          const v = queryValue(request.query, name);
          return v === undefined ? undefined : xxHash64(v);
        },
      };
    }
    case 'sourceIp':
      return { terminal, evaluate: () => xxHash64(localSourceIp()) };
    default:
      // filter_state has no meaning without Envoy's filter chain.
      return undefined;
  }
}

/** Compiles a route's hash policies; undefined when the route has none that Dabba evaluates. */
export function compileRequestHasher(policies: readonly HashPolicy[]): RequestHasher | undefined {
  const methods = policies.map(methodOf).filter((m): m is Method => m !== undefined);
  if (methods.length === 0) return undefined;
  return (input) => {
    let hash: bigint | undefined;
    for (const m of methods) {
      const next = m.evaluate(input);
      if (next !== undefined) {
        const rotated = hash === undefined ? 0n : ((hash << 1n) | (hash >> 63n)) & MASK_64;
        hash = rotated ^ next;
      }
      if (m.terminal && hash !== undefined) break;
    }
    return hash;
  };
}
