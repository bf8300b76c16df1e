/** envoy/type/v3/percent.proto FractionalPercent.DenominatorType. */
export type FractionalPercentDenominator = 'HUNDRED' | 'TEN_THOUSAND' | 'MILLION';

/** envoy/type/v3/percent.proto FractionalPercent. */
export interface FractionalPercent {
  readonly numerator?: number;
  /** Defaults to HUNDRED. */
  readonly denominator?: FractionalPercentDenominator;
}

/** config/core/v3/base.proto RuntimeFractionalPercent. Only the default value is used (no runtime). */
export interface RuntimeFractionalPercent {
  readonly defaultValue?: FractionalPercent;
  readonly runtimeKey?: string;
}
