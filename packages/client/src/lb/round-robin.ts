import type { Host } from './host.ts';
import { type PickContext, pickWithRetries, type SourcePicker, weightsAreEqual } from './picker.ts';
import { type RandomSource, randomUint32 } from './random-source.ts';
import { WeightClassEdfScheduler } from './weight-class-edf-scheduler.ts';

/** Options of {@link createRoundRobinPicker}. */
export interface RoundRobinOptions {
  /**
   * Start offset. Envoy seeds every round-robin index, and the EDF schedule's pre-picks, with
   * one random value drawn when the load balancer is built, so workers do not march in step.
   * Default: drawn from `random`.
   */
  readonly seed?: number;
  /** Random source for picks whose context carries none. Default `Math.random`. */
  readonly random?: RandomSource;
}

/**
 * Envoy ROUND_ROBIN over one host list (round_robin_lb.h): with equal weights a plain index
 * `hosts[i++ % n]` starting at the seed; with unequal weights an EDF schedule with each host's
 * weight, pre-advanced by `seed % 429496729` picks (EdfLoadBalancerBase::refresh).
 */
export function createRoundRobinPicker(
  hosts: readonly Host[],
  options: RoundRobinOptions = {},
): SourcePicker {
  const random = options.random ?? Math.random;
  const seed = options.seed ?? randomUint32(random);
  return weightsAreEqual(hosts)
    ? new UnweightedRoundRobin(hosts, seed, random)
    : new WeightedRoundRobin(hosts, seed, random);
}

class UnweightedRoundRobin implements SourcePicker {
  private readonly hosts: readonly Host[];
  private readonly random: RandomSource;
  private index: number;

  constructor(hosts: readonly Host[], seed: number, random: RandomSource) {
    this.hosts = hosts;
    this.random = random;
    this.index = seed;
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickWithRetries(this, ctx, this.random);
  }

  pickOnce(): Host | undefined {
    const n = this.hosts.length;
    if (n === 0) return undefined;
    // The counter stays in [0, n] after the first pick (the sequence mod n is unchanged), so
    // only the seed needs a real modulo.
    let i = this.index;
    if (i >= n) i = i === n ? 0 : i % n;
    this.index = i + 1;
    return this.hosts[i];
  }
}

class WeightedRoundRobin implements SourcePicker {
  private readonly hosts: readonly Host[];
  private readonly random: RandomSource;
  // Host weights are fixed for the picker's life, so the EDF can run over the distinct weights
  // (same pick sequence as Envoy's per-host EDF, see weight-class-edf-scheduler.ts).
  private readonly scheduler: WeightClassEdfScheduler;

  constructor(hosts: readonly Host[], seed: number, random: RandomSource) {
    this.hosts = hosts;
    this.random = random;
    this.scheduler = new WeightClassEdfScheduler(
      hosts.map((h) => h.weight),
      seed,
    );
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickWithRetries(this, ctx, this.random);
  }

  pickOnce(): Host | undefined {
    return this.hosts[this.scheduler.pickAndAdd()];
  }
}
