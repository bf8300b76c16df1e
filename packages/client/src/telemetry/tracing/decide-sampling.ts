/**
 * Envoy's tracing decision for a request (ConnectionManagerUtility::mutateTracingRequestHeader
 * and the tracers' own reading of the incoming context), in two parts the request path runs:
 *
 * - {@link sampleByRate}: `random_sampling`, a fraction with denominator 10000 as Envoy's runtime
 *   evaluates it (the HCM config rounds the percentage to ten-thousandths: source/extensions/
 *   filters/network/http_connection_manager/config.cc, `FractionalPercent::TEN_THOUSAND`). Envoy
 *   draws the value from the x-request-id (UuidRequestIdConfig `use_request_id_for_trace_sampling`,
 *   request-id-sampling.ts); without an id it is drawn from `random`.
 * - {@link decideSampling}: a caller's decision wins (W3C sampled flag, B3 `x-b3-sampled`/`b3`
 *   sampling state); B3 debug forces sampling; otherwise the reason found for the request.
 */

/** Whether `random_sampling` of `samplingPerTenThousand` picks this request; 0% and 100% draw nothing. */
export function sampleByRate(samplingPerTenThousand: number, random: () => number): boolean {
  if (samplingPerTenThousand >= 10_000) return true;
  if (samplingPerTenThousand <= 0) return false;
  return Math.floor(random() * 10_000) < samplingPerTenThousand;
}

/**
 * Whether the request is sampled: B3 debug forces it, else the parent's decision, else
 * `traceable` (the reason from the x-request-id, a forced trace, or {@link sampleByRate}).
 */
export function decideSampling(
  parentSampled: boolean | undefined,
  debug: boolean,
  traceable: boolean,
): boolean {
  return debug || (parentSampled ?? traceable);
}
