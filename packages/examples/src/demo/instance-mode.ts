/**
 * How a demo instance behaves, switchable while it runs, so the resilience scenes can make one
 * instance misbehave and then recover without restarting anything.
 */

/**
 * - `healthy`: answers 200 at once.
 * - `flaky`: answers 503 to about half the requests (a coin toss per request), 200 otherwise.
 * - `down`: answers 503 to every request (the process runs, the service does not).
 * - `slow`: answers 200 after `SLOW_MS`.
 */
export type InstanceMode = 'healthy' | 'flaky' | 'down' | 'slow';

export const INSTANCE_MODES: readonly InstanceMode[] = Object.freeze(['healthy', 'flaky', 'down', 'slow']);

/** How long a `slow` instance takes to answer. */
export const SLOW_MS = 300;

/** What an instance has answered since it started. */
export interface InstanceStats {
  readonly requests: number;
  /** Answers with a 5xx status. */
  readonly errors: number;
  /** The most TCP connections it had open at once (what a connection limit bounds). */
  readonly peakConnections: number;
}

/** Messages the demo sends to an instance; each is answered with the same `id`. */
export type InstanceCommand =
  | { readonly type: 'set-mode'; readonly id: number; readonly mode: InstanceMode }
  | { readonly type: 'stats'; readonly id: number };

/** Messages an instance sends to the demo. */
export type UpstreamMessage =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'mode-set'; readonly id: number; readonly mode: InstanceMode }
  | ({ readonly type: 'stats'; readonly id: number } & InstanceStats);
