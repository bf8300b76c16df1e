/**
 * Scene 3: sticky sessions by consistent hashing. `cart-destination-rule.yaml` hashes the
 * `x-user` header onto a ring of cart instances: every request of a user lands on the same
 * instance, while different users spread over all of them.
 */
import { type Answered, countBy, type PlannedRequest, percent } from '../traffic.ts';
import { driveTraffic, type Scene } from './scene.ts';

const CART_URL = 'http://cart:8080/cart';
const USERS = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'oscar',
];
const REQUESTS_PER_USER = 25;

/** Per user, the instance that answered most of their requests and how many that was. */
function stickiness(
  answers: readonly Answered[],
): Map<string, { instance: string; hits: number; total: number }> {
  const byUser = new Map<string, Answered[]>();
  for (const a of answers) {
    const user = a.request.headers?.['x-user'] ?? '';
    byUser.set(user, [...(byUser.get(user) ?? []), a]);
  }
  const out = new Map<string, { instance: string; hits: number; total: number }>();
  for (const user of USERS) {
    const mine = byUser.get(user) ?? [];
    const [instance = '', hits = 0] =
      [...countBy(mine, (r) => r.instance)].sort((a, b) => b[1] - a[1])[0] ?? [];
    out.set(user, { instance, hits, total: mine.length });
  }
  return out;
}

export const consistentHashScene: Scene = async (ctx) => {
  const { display } = ctx;
  display.line(display.bold('3. Consistent hashing') + display.dim('  (cart-destination-rule.yaml)'));
  display.line('   DestinationRule cart: consistentHash on header x-user, ring hash');
  // Interleaved, so stickiness cannot come from sending one user's requests back to back.
  const requests: PlannedRequest[] = [];
  for (let i = 0; i < REQUESTS_PER_USER; i++)
    for (const user of USERS) requests.push({ url: CART_URL, headers: { 'x-user': user } });
  const answers = await driveTraffic(ctx, 'cart', requests, (a) => {
    const sticky = [...stickiness(a).values()].reduce((s, u) => s + u.hits, 0);
    return `stickiness ${percent(sticky, a.length)}`;
  });
  const perUser = stickiness(answers);
  const byInstance = new Map<string, string[]>();
  for (const [user, u] of perUser) {
    byInstance.set(u.instance, [...(byInstance.get(u.instance) ?? []), `${user} ${u.hits}/${u.total}`]);
  }
  for (const [instance, users] of [...byInstance].sort(([a], [b]) => a.localeCompare(b))) {
    display.line(`   ${instance.padEnd(16)} <- ${users.join(', ')}`);
  }
  const sticky = [...perUser.values()].reduce((s, u) => s + u.hits, 0);
  const instancesUsed = new Set([...perUser.values()].map((u) => u.instance)).size;
  const ok = sticky === answers.length;
  display.line(
    `   stickiness ${percent(sticky, answers.length)} over ${answers.length} requests; ${USERS.length} users on ${instancesUsed} instances  ${ok ? display.good('matches') : display.bad('off')}`,
  );
  return {
    name: 'consistent-hash',
    configured: 'cart: ring hash on x-user',
    measured: `stickiness ${percent(sticky, answers.length)}, ${USERS.length} users on ${instancesUsed} instances`,
    ok,
    fields: {
      users: USERS.length,
      requests: answers.length,
      stickiness: percent(sticky, answers.length),
      instances: instancesUsed,
    },
  };
};
