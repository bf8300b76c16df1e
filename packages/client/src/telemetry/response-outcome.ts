import { ENVOY_RESPONSE_FLAGS, NO_RESPONSE_FLAGS } from './istio-metric-names.ts';

const ORDER = new Map<string, number>(ENVOY_RESPONSE_FLAGS.map((f, i) => [f, i]));

/**
 * The `response_flags` label of a request that ended with `err`: the error's Envoy flags
 * (`responseFlags`, else `responseFlag`) in Envoy's order, joined by `,` as `toShortString`
 * writes them; flags outside Envoy's set are dropped, so the value stays in the closed set.
 * `fallback` when the error carries none. Runs only when a request ends with an error.
 */
export function responseFlagsOf(err: unknown, fallback: string = NO_RESPONSE_FLAGS): string {
  const e = err as { responseFlags?: unknown; responseFlag?: unknown } | null | undefined;
  const raw: unknown[] = Array.isArray(e?.responseFlags)
    ? e.responseFlags
    : typeof e?.responseFlag === 'string'
      ? [e.responseFlag]
      : [];
  const known = [...new Set(raw.filter((f): f is string => typeof f === 'string' && ORDER.has(f)))];
  if (known.length === 0) return fallback;
  known.sort((a, b) => ORDER.get(a)! - ORDER.get(b)!);
  return known.join(',');
}

/**
 * The status Envoy's local reply carries for a request that got no upstream response: 504 for
 * `UT`, 404 for `NR`, 0 (no response) when nothing or only `DC` is flagged, else 503 (`UF`,
 * `UC`, `UR`, `UO`, `UH`, `NC`, `URX`...). Istio's dashboards count these 5xx as failures,
 * so a failure with no response must not be recorded as code 0.
 */
export function localReplyStatus(flags: string): number {
  if (flags === NO_RESPONSE_FLAGS || flags === 'DC') return 0;
  if (flags.includes('UT')) return 504;
  if (flags === 'NR') return 404;
  return 503;
}

/** `flags` with `DI` merged in, by `flags`; bounded by the closed set of flag combinations. */
const withDelay = new Map<string, string>();

/**
 * The `response_flags` of a request an injected fault delayed: `DI` merged into the flags it
 * ended with, in Envoy's order (`DI` alone for a plain response, `UF,DI,URX` after refused
 * connections), as Envoy's stream info holds every flag set on the request and
 * `toShortString` writes them in its table's order. Runs only for delayed requests.
 */
export function withFaultDelayFlag(flags: string): string {
  let merged = withDelay.get(flags);
  if (merged === undefined) {
    const parts = flags === NO_RESPONSE_FLAGS ? [] : flags.split(',');
    merged = responseFlagsOf({ responseFlags: [...parts, 'DI'] });
    withDelay.set(flags, merged);
  }
  return merged;
}
