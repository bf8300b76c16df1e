/**
 * @dabba/core: what every Dabba package shares, with no dependencies of its own.
 */
export { DabbaChannel } from './channels.ts';
export { type Clock, MAX_TIMER_MS, SYSTEM_CLOCK, type TimerHandle, type TimerOptions } from './clock.ts';
export {
  ConfigError,
  type ConfigIssue,
  CoreErrorCode,
  DabbaError,
  type DabbaErrorOptions,
  formatIssue,
  type ResourceRef,
} from './errors.ts';
export { ManualClock } from './manual-clock.ts';
export { type RandomSource, randomUint32 } from './random.ts';
export {
  ENVOY_RESPONSE_FLAG_ORDER,
  NO_RESPONSE_FLAGS,
  ResponseFlag,
  type ResponseFlagValue,
} from './response-flags.ts';
