/**
 * RE2, the engine of Envoy's `safe_regex` everywhere, compiled once per pattern: the decoders
 * compile each pattern to validate it (a backreference or a lookaround is a NACK, not a route
 * that never matches) and the data plane builds its matchers from the same compiled object.
 */
import { RE2JS } from 're2js';

/** Compiled patterns by source text; a snapshot's patterns are a few thousand at most. */
const compiled = new Map<string, RE2JS>();
const MAX_CACHED = 10_000;

/**
 * The compiled pattern; throws re2js's error (its message says what is wrong) when `pattern`
 * is not valid RE2.
 */
export function compileRe2(pattern: string): RE2JS {
  let re = compiled.get(pattern);
  if (re === undefined) {
    re = RE2JS.compile(pattern);
    // Unbounded growth would follow a control plane that keeps changing patterns; start over.
    if (compiled.size >= MAX_CACHED) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

/** Why `pattern` is not valid RE2, or undefined when it is. */
export function re2Problem(pattern: string): string | undefined {
  try {
    compileRe2(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
