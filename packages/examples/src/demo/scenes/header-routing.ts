/**
 * Scene 2: routing on a request header, as in Istio's Bookinfo sample. `end-user: jason` goes
 * to reviews v2; everyone else is split between v1 and v3 (`reviews-virtual-service.yaml`).
 */
import { type PlannedRequest, percent } from '../traffic.ts';
import { driveTraffic, type Scene } from './scene.ts';
import { formatShares, versionShares, withinTolerance } from './split.ts';

export const REVIEWS_URL = 'http://reviews:9080/reviews/1';
const JASON_REQUESTS = 100;
const OTHER_USERS = ['alice', 'bob', 'carol', 'dave'];
const OTHER_REQUESTS = 600;

export const headerRoutingScene: Scene = async (ctx) => {
  const { display } = ctx;
  display.line(display.bold('2. Header-based routing') + display.dim('  (reviews-virtual-service.yaml)'));
  display.line('   end-user: jason -> reviews v2; everyone else -> v1 50% / v3 50%');
  const versions = ['v1', 'v2', 'v3'];
  const jasonRequests: PlannedRequest[] = Array.from({ length: JASON_REQUESTS }, () => ({
    url: REVIEWS_URL,
    headers: { 'end-user': 'jason' },
  }));
  // Other users, and requests with no end-user at all: neither matches the jason route.
  const otherRequests: PlannedRequest[] = Array.from({ length: OTHER_REQUESTS }, (_, i) => {
    const user = OTHER_USERS[i % (OTHER_USERS.length + 1)];
    return user ? { url: REVIEWS_URL, headers: { 'end-user': user } } : { url: REVIEWS_URL };
  });
  const live = (a: Parameters<typeof versionShares>[0]) => formatShares(versionShares(a, versions));
  const jason = await driveTraffic(ctx, 'jason ', jasonRequests, live);
  const jasonV2 = jason.filter((a) => a.reply.version === 'v2').length;
  display.line(`   jason:  ${percent(jasonV2, jason.length)} of ${jason.length} requests on v2`);
  const others = await driveTraffic(ctx, 'others', otherRequests, live);
  const shares = versionShares(others, versions);
  display.line(`   others: ${formatShares(shares)} (${others.length} requests)`);
  const ok = jasonV2 === jason.length && withinTolerance(shares, { v1: 50, v2: 0, v3: 50 }, 8);
  display.line(`   ${ok ? display.good('matches') : display.bad('off')}`);
  return {
    name: 'header-routing',
    configured: 'jason -> v2; others v1 50% / v3 50%',
    measured: `jason v2 ${percent(jasonV2, jason.length)}; others ${formatShares(shares)}`,
    ok,
    fields: {
      'jason-v2': percent(jasonV2, jason.length),
      'others-v1': `${shares.get('v1')!.toFixed(1)}%`,
      'others-v2': `${shares.get('v2')!.toFixed(1)}%`,
      'others-v3': `${shares.get('v3')!.toFixed(1)}%`,
    },
  };
};
