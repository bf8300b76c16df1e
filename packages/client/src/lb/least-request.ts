import { EdfScheduler } from './edf-scheduler.ts';
import type { Host } from './host.ts';
import { mod32 } from './modulo.ts';
import { type PickContext, pickWithRetries, type SourcePicker, weightsAreEqual } from './picker.ts';
import { type RandomSource, randomUint32 } from './random-source.ts';

/** Options of {@link createLeastRequestPicker} (LeastRequest proto fields). */
export interface LeastRequestOptions {
  /** Hosts sampled per pick when weights are equal. Default 2 (proto: must be >= 2). */
  readonly choiceCount?: number;
  /**
   * Exponent of `weight / (active_requests + 1)^bias` when weights differ. Default 1.0;
   * negative or NaN falls back to 1.0 as Envoy does.
   */
  readonly activeRequestBias?: number;
  /** Seed for the EDF pre-picks (as round robin). Default: drawn from `random`. */
  readonly seed?: number;
  /** Random source for picks whose context carries none. Default `Math.random`. */
  readonly random?: RandomSource;
}

/** Envoy's LeastRequest `choice_count` default. */
export const DEFAULT_CHOICE_COUNT = 2;
/** Envoy's LeastRequest `active_request_bias` default. */
export const DEFAULT_ACTIVE_REQUEST_BIAS = 1.0;

/**
 * Envoy LEAST_REQUEST over one host list (least_request_lb.{h,cc}). Equal weights: power of
 * `choiceCount` choices, sampling with replacement and keeping the first of equally loaded
 * samples. Unequal weights: EDF with each host re-inserted at weight
 * `weight / (activeRequests + 1)^bias`, evaluated when it is picked.
 */
export function createLeastRequestPicker(
  hosts: readonly Host[],
  options: LeastRequestOptions = {},
): SourcePicker {
  const random = options.random ?? Math.random;
  const choiceCount = options.choiceCount ?? DEFAULT_CHOICE_COUNT;
  if (!Number.isInteger(choiceCount) || choiceCount < 2) {
    throw new RangeError(`least request: choiceCount must be an integer >= 2, got ${choiceCount}`);
  }
  let bias = options.activeRequestBias ?? DEFAULT_ACTIVE_REQUEST_BIAS;
  if (Number.isNaN(bias) || bias < 0) bias = DEFAULT_ACTIVE_REQUEST_BIAS;
  if (weightsAreEqual(hosts)) return new ChoicesLeastRequest(hosts, choiceCount, random);
  const seed = options.seed ?? randomUint32(random);
  return new WeightedLeastRequest(hosts, bias, seed, random);
}

class ChoicesLeastRequest implements SourcePicker {
  private readonly hosts: readonly Host[];
  private readonly choiceCount: number;
  private readonly random: RandomSource;

  constructor(hosts: readonly Host[], choiceCount: number, random: RandomSource) {
    this.hosts = hosts;
    this.choiceCount = choiceCount;
    this.random = random;
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickWithRetries(this, ctx, this.random);
  }

  pickOnce(_draw: number, random: RandomSource): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    let best = this.hosts[mod32(randomUint32(random), n)]!;
    for (let i = 1; i < this.choiceCount; i++) {
      const sampled = this.hosts[mod32(randomUint32(random), n)]!;
      // Strictly fewer: on a tie Envoy keeps the earlier sample.
      if (sampled.activeRequests < best.activeRequests) best = sampled;
    }
    return best;
  }
}

class WeightedLeastRequest implements SourcePicker {
  private readonly hosts: readonly Host[];
  private readonly random: RandomSource;
  private readonly scheduler: EdfScheduler;
  private readonly weightOf: (index: number) => number;

  constructor(hosts: readonly Host[], bias: number, seed: number, random: RandomSource) {
    this.hosts = hosts;
    this.random = random;
    this.weightOf = (i) => effectiveWeight(hosts[i]!, bias);
    this.scheduler = new EdfScheduler(
      hosts.map((h) => effectiveWeight(h, bias)),
      seed,
      this.weightOf,
    );
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickWithRetries(this, ctx, this.random);
  }

  pickOnce(): Host | undefined {
    return this.hosts[this.scheduler.pickAndAdd(this.weightOf)];
  }
}

/** `weight / (active + 1)^bias`; bias 1 and 0 avoid `Math.pow` as Envoy's fast paths do. */
function effectiveWeight(host: Host, bias: number): number {
  const active = host.activeRequests + 1;
  if (bias === 1) return host.weight / active;
  if (bias === 0) return host.weight;
  return host.weight / active ** bias;
}
