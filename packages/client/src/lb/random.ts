import type { Host } from './host.ts';
import { mod32 } from './modulo.ts';
import { type PickContext, pickWithRetries, type SourcePicker } from './picker.ts';
import type { RandomSource } from './random-source.ts';

/** Options of {@link createRandomPicker}. */
export interface RandomOptions {
  /** Random source for picks whose context carries none. Default `Math.random`. */
  readonly random?: RandomSource;
}

/**
 * Envoy RANDOM (random_lb.cc): `hosts[r % n]`, uniform, ignoring endpoint weights. Envoy uses
 * the same random value `r` that chose the priority level, so the load balancer passes it in
 * as `draw`.
 */
export function createRandomPicker(hosts: readonly Host[], options: RandomOptions = {}): SourcePicker {
  return new RandomPicker(hosts, options.random ?? Math.random);
}

class RandomPicker implements SourcePicker {
  private readonly hosts: readonly Host[];
  private readonly random: RandomSource;

  constructor(hosts: readonly Host[], random: RandomSource) {
    this.hosts = hosts;
    this.random = random;
  }

  pick(ctx?: PickContext): Host | undefined {
    return pickWithRetries(this, ctx, this.random);
  }

  pickOnce(draw: number): Host | undefined {
    const n = this.hosts.length;
    return n === 0 ? undefined : this.hosts[mod32(draw, n)];
  }
}
