/**
 * One LB pick over 1,000 endpoints in three localities, per policy, with equal and with unequal
 * endpoint weights. Hashing policies get a different request hash each pick (a bigint, as the
 * request path hands them), drawn from a precomputed table so the hash itself is not timed.
 */
import { type BenchHost, type LbPolicyType, loadLb, type PickContext } from './client-internals.ts';
import { type LoopOptions, nsPerOp } from './time-loop.ts';

export const ENDPOINT_COUNT = 1000;
export const POLICIES: readonly LbPolicyType[] = [
  'ROUND_ROBIN',
  'LEAST_REQUEST',
  'RANDOM',
  'RING_HASH',
  'MAGLEV',
];

export interface LbBenchRow {
  readonly policy: LbPolicyType;
  readonly weights: 'equal' | 'unequal';
  readonly ns: number;
}

const LOCALITIES = ['us-east-1a', 'us-east-1b', 'us-east-1c'].map((zone) => ({
  region: 'us-east',
  zone,
  subZone: '',
}));

function hosts(unequal: boolean): BenchHost[][] {
  const byLocality: BenchHost[][] = LOCALITIES.map(() => []);
  for (let i = 0; i < ENDPOINT_COUNT; i++) {
    const address = `10.0.${i >> 8}.${i & 255}`;
    byLocality[i % LOCALITIES.length]!.push({
      key: `${address}:8080`,
      address,
      port: 8080,
      weight: unequal ? 1 + (i % 10) : 1,
      locality: LOCALITIES[i % LOCALITIES.length]!,
      labels: {},
      health: 'healthy',
      activeRequests: 0,
    });
  }
  return byLocality;
}

/** Deterministic uint64 hashes (splitmix64), so runs are comparable. */
function hashContexts(count: number): PickContext[] {
  const mask = (1n << 64n) - 1n;
  let state = 0x9e3779b97f4a7c15n;
  const out: PickContext[] = [];
  for (let i = 0; i < count; i++) {
    state = (state + 0x9e3779b97f4a7c15n) & mask;
    let z = state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & mask;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & mask;
    out.push({ hash: z ^ (z >> 31n) });
  }
  return out;
}

export async function runLbBench(loop: LoopOptions): Promise<LbBenchRow[]> {
  const lb = await loadLb();
  await lb.initHash();
  const contexts = hashContexts(4096);
  const rows: LbBenchRow[] = [];
  for (const weights of ['equal', 'unequal'] as const) {
    const plan = lb.buildLbPlan([
      hosts(weights === 'unequal').map((h, i) => ({ locality: LOCALITIES[i]!, hosts: h })),
    ]);
    for (const policy of POLICIES) {
      const balancer = lb.createLoadBalancer(policy, plan, { seed: 42 });
      const hashing = policy === 'RING_HASH' || policy === 'MAGLEV';
      if (!balancer.pick(hashing ? contexts[0] : undefined)) throw new Error(`${policy}: no host picked`);
      const ns = hashing
        ? nsPerOp((i) => balancer.pick(contexts[i & 4095])!.port, loop)
        : nsPerOp(() => balancer.pick()!.port, loop);
      rows.push({ policy, weights, ns });
    }
  }
  return rows;
}
