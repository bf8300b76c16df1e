/**
 * google.protobuf.Duration in milliseconds, as Envoy reads every duration field
 * (`PROTOBUF_GET_MS_OR_DEFAULT` -> `DurationUtil::durationToMilliseconds`): whole milliseconds,
 * the nanoseconds truncated. One rule for every field, so a `0.0015s` timeout is 1 ms everywhere.
 */
export function durationMs(d: { readonly seconds: bigint; readonly nanos: number }): number {
  return Number(d.seconds) * 1000 + Math.trunc(d.nanos / 1_000_000);
}

/** {@link durationMs} of an optional field: `undefined` stays `undefined`. */
export function optionalDurationMs(
  d: { readonly seconds: bigint; readonly nanos: number } | undefined,
): number | undefined {
  return d === undefined ? undefined : durationMs(d);
}
