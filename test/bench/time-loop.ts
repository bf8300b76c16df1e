/**
 * The micro-benchmark harness: run a body many times between two hrtime readings and keep the
 * median ns/op of several runs. The body returns a number that is summed into a sink, so V8
 * cannot drop the work as dead code.
 */
import { median } from './stats.ts';

export interface LoopOptions {
  readonly iterations: number;
  readonly runs: number;
}

let sink = 0;

/** Median ns per call of `body(i)` over `runs` timed runs, after one untimed warm-up run. */
export function nsPerOp(body: (i: number) => number, options: LoopOptions): number {
  const { iterations, runs } = options;
  const samples: number[] = [];
  for (let r = -1; r < runs; r++) {
    let acc = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) acc += body(i);
    const elapsed = Number(process.hrtime.bigint() - start);
    sink += acc;
    if (r >= 0) samples.push(elapsed / iterations);
  }
  return median(samples);
}

/** Keeps the sink observable; called once at the end of the suite. */
export function consumeSink(): number {
  return sink;
}
