/** Small constructors for protobuf well-known values used throughout translation. */
import { create } from '@bufbuild/protobuf';
import { type Duration, DurationSchema } from '@bufbuild/protobuf/wkt';

/** A google.protobuf.Duration from milliseconds. */
export function durationFromMs(ms: number): Duration {
  const seconds = Math.floor(ms / 1000);
  return create(DurationSchema, { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) });
}

/** Istio's "no limit" for circuit breakers: math.MaxUint32. */
export const MAX_UINT32 = 4_294_967_295;
