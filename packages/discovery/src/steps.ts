/**
 * Long, pure computations (translation, snapshot assembly) written once as generators that
 * `yield` at points where pausing is safe. Run to completion they are the synchronous functions
 * the public API exposes; run sliced they give the event loop back every few milliseconds, so
 * a watched source applying a large configuration never blocks requests for long.
 */
import { performance } from 'node:perf_hooks';

/** A computation that may pause at each `yield` and finally returns T. */
export type Steps<T> = Generator<void, T, void>;

/** Runs every step at once (the synchronous API). */
export function runSteps<T>(steps: Steps<T>): T {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
  }
}

/** Default time slice: well under the 20 ms a request should ever wait for configuration work. */
export const SLICE_MS = 8;

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Gives the event loop a turn whenever `sliceMs` have passed since the last one. Call it between
 * units of work; it resolves at once (without a turn) while the slice lasts.
 */
export function createYielder(sliceMs = SLICE_MS): () => Promise<void> | undefined {
  let start = performance.now();
  return () => {
    if (performance.now() - start < sliceMs) return undefined;
    return nextTurn().then(() => {
      start = performance.now();
    });
  };
}

/** Runs the steps, giving the event loop a turn through `pause` whenever it asks for one. */
export async function runStepsSliced<T>(
  steps: Steps<T>,
  pause: () => Promise<void> | undefined = createYielder(),
): Promise<T> {
  for (;;) {
    const next = steps.next();
    if (next.done) return next.value;
    const turn = pause();
    if (turn) await turn;
  }
}
