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
