/**
 * Envoy's tracing decision for a request (ConnectionManagerUtility::mutateTracingRequestHeader
 * and the tracers' own reading of the incoming context): a caller's decision wins (W3C sampled
 * flag, B3 `x-b3-sampled`/`b3` sampling state); B3 debug forces sampling; otherwise
 * `random_sampling`, a fraction with denominator 10000 as Envoy's runtime evaluates it (the HCM
 * config rounds the percentage to ten-thousandths: source/extensions/filters/network/
 * http_connection_manager/config.cc, `FractionalPercent::TEN_THOUSAND`). Envoy draws the random
 * value from the x-request-id (UuidRequestIdConfig `use_request_id_for_trace_sampling`): the
 * outbound path does the same (`request-id-sampling.ts`); this function draws from `random`.
 */
export function decideSampling(
  parentSampled: boolean | undefined,
  debug: boolean,
  samplingPerTenThousand: number,
  random: () => number,
): boolean {
  if (debug) return true;
  if (parentSampled !== undefined) return parentSampled;
  if (samplingPerTenThousand >= 10_000) return true;
  if (samplingPerTenThousand <= 0) return false;
  return Math.floor(random() * 10_000) < samplingPerTenThousand;
}
