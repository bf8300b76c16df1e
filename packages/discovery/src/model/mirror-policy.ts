import type { RuntimeFractionalPercent } from './fractional-percent.ts';

/** One RouteAction.request_mirror_policies entry. */
export interface MirrorPolicyModel {
  /** Never empty (`cluster_header` is not supported). */
  readonly cluster: string;
  /** undefined: every request is mirrored. */
  readonly runtimeFraction: RuntimeFractionalPercent | undefined;
  readonly disableShadowHostSuffixAppend: boolean;
}
