import type { FractionalPercent as XdsFractionalPercent } from '#xds/envoy/type/v3/percent_pb.js';
import type { FractionalPercent, FractionalPercentDenominator } from '../model/fractional-percent.ts';

// envoy.type.v3.FractionalPercent.DenominatorType: HUNDRED = 0, TEN_THOUSAND = 1, MILLION = 2.
const DENOMINATORS: readonly FractionalPercentDenominator[] = ['HUNDRED', 'TEN_THOUSAND', 'MILLION'];

/** The name of a DenominatorType number; undefined for a number the enum does not define. */
export function denominatorName(denominator: number): FractionalPercentDenominator | undefined {
  return DENOMINATORS[denominator];
}

/**
 * A fault or mirror percentage with both fields set. An unknown denominator counts as HUNDRED
 * here, where a route match's runtime fraction refuses it.
 */
export function fractionalPercentFromXds(p: XdsFractionalPercent): FractionalPercent {
  return { numerator: p.numerator, denominator: denominatorName(p.denominator) ?? 'HUNDRED' };
}
