/**
 * Building blocks shared by the Istio resource schemas (networking.istio.io).
 * The schemas are strict: a field Istio does not define is an error, as `kubectl apply`
 * with strict field validation reports it. Fields Istio defines but Dabba does not act on
 * yet are accepted and reported as notices by the translator, never silently dropped.
 */
import { z } from 'zod';
import { validateWildcardDomain } from './host-name-validation.ts';

/** Istio's StringMatch: exactly one of exact, prefix, regex. An empty object means "present". */
export const stringMatch = z
  .strictObject({ exact: z.string().optional(), prefix: z.string().optional(), regex: z.string().optional() })
  .refine((m) => [m.exact, m.prefix, m.regex].filter((v) => v !== undefined).length <= 1, {
    message: 'only one of exact, prefix, regex may be set',
  });
export type StringMatch = z.infer<typeof stringMatch>;

const DURATION_PART = /(\d+)(?:\.(\d+))?(h|ms|us|µs|ns|m|s)/y;
const UNIT_NS: Record<string, bigint> = {
  h: 3_600_000_000_000n,
  m: 60_000_000_000n,
  s: 1_000_000_000n,
  ms: 1_000_000n,
  us: 1000n,
  µs: 1000n,
  ns: 1n,
};

/**
 * Parses a duration as Istio accepts it (protobuf JSON `1.5s`, and the Go forms `100ms`, `1m30s`).
 * Returns milliseconds, or undefined when malformed. The sum is kept in whole nanoseconds, as a
 * protobuf Duration holds it, so `1.001s` is exactly 1001 ms (in floating point it was not, and
 * the whole-millisecond check refused it); a fraction below a nanosecond is dropped.
 */
export function parseDurationMs(text: string): number | undefined {
  if (text === '') return undefined;
  let totalNs = 0n;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const start = DURATION_PART.lastIndex;
    const m = DURATION_PART.exec(text);
    if (!m || m.index !== start) return undefined;
    const unit = UNIT_NS[m[3]!]!;
    const fraction = m[2] ?? '';
    totalNs += BigInt(m[1]!) * unit + (BigInt(`0${fraction}`) * unit) / 10n ** BigInt(fraction.length);
  }
  const wholeMs = totalNs / 1_000_000n;
  return totalNs % 1_000_000n === 0n ? Number(wholeMs) : Number(totalNs) / 1e6;
}

/** google.protobuf.Duration's range: at most 315,576,000,000 seconds (about 10,000 years). */
export const MAX_DURATION_MS = 315_576_000_000_000;

/** A duration string; parsed to milliseconds at validation time. */
export const duration = z.string().transform((text, ctx) => {
  const ms = parseDurationMs(text);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${text}" is not a duration (examples: 1.5s, 100ms, 1m)` });
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is longer than a protobuf Duration can hold (315576000000s)`,
    });
    return z.NEVER;
  }
  return ms;
});

/**
 * A duration istiod checks with `agent.ValidateDuration` (timeouts, delays, intervals): at least
 * 1 ms and in whole milliseconds, with no upper bound of its own.
 */
export const istioDuration = duration.check((ctx) => {
  if (ctx.value < 1)
    ctx.issues.push({ code: 'custom', message: 'duration must be greater than 1ms', input: ctx.value });
  else if (!Number.isInteger(ctx.value))
    ctx.issues.push({
      code: 'custom',
      message: 'only durations to ms precision are supported',
      input: ctx.value,
    });
});

/** A host name istiod's ValidateWildcardDomain accepts (a wildcard only as the first label). */
export const wildcardDomain = z.string().check((ctx) => {
  const problem = validateWildcardDomain(ctx.value);
  if (problem !== undefined) ctx.issues.push({ code: 'custom', message: problem, input: ctx.value });
});

export const port = z.number().int().min(1).max(65535);
export const labels = z.record(z.string(), z.string());
export const namespaceMeta = z
  .object({
    name: z.string().min(1),
    namespace: z.string().min(1).optional(),
    labels: labels.optional(),
    annotations: z.record(z.string(), z.string()).optional(),
  })
  .loose();

export const headerOperations = z.strictObject({
  set: z.record(z.string(), z.string()).optional(),
  add: z.record(z.string(), z.string()).optional(),
  remove: z.array(z.string()).optional(),
});
export type HeaderOperations = z.infer<typeof headerOperations>;

export const headers = z.strictObject({
  request: headerOperations.optional(),
  response: headerOperations.optional(),
});
export type Headers = z.infer<typeof headers>;

export const percent = z.strictObject({ value: z.number().min(0).max(100) });

export const workloadSelector = z.strictObject({ matchLabels: labels.optional() });
export const exportTo = z.array(z.string()).optional();
