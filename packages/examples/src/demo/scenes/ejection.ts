/**
 * Watching outlier ejection from outside: which endpoint `mesh.explain()` shows for an instance,
 * and waiting, with light traffic flowing, until an ejected instance is back.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { ExplainedEndpoint, Explanation, Mesh } from '@dabba/client';
import type { Outcome } from '../traffic.ts';
import { driveCounting, type SceneContext } from './scene.ts';

/** The endpoint of instance `name` in `e` (first cluster), if listed. */
export function endpointOf(ctx: SceneContext, e: Explanation, name: string): ExplainedEndpoint | undefined {
  const endpoints = e.clusters[0]?.priorities.flatMap((p) => p.localities.flatMap((l) => l.endpoints)) ?? [];
  return endpoints.find((ep) => ctx.nameOf(ep.address, ep.port) === name);
}

/** Whether `mesh.explain()` shows instance `name` ejected now. */
export function isEjected(ctx: SceneContext, url: string, name: string, mesh: Mesh = ctx.mesh): boolean {
  return endpointOf(ctx, mesh.explain({ url }), name)?.outlier?.ejected === true;
}

/**
 * Sends one request at a time to `url`, a few milliseconds apart, for as long as instance
 * `name` is ejected (checked before each request, so none of them could have gone to it), or
 * until `timeoutMs` passes. Resolves with those requests and whether the instance came back.
 */
export async function untilReturned(
  ctx: SceneContext,
  url: string,
  name: string,
  timeoutMs: number,
): Promise<{ outcomes: Outcome[]; returned: boolean }> {
  const GAP_MS = 10;
  const outcomes: Outcome[] = [];
  const started = performance.now();
  while (isEjected(ctx, url, name)) {
    if (performance.now() - started > timeoutMs) return { outcomes, returned: false };
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    const [outcome] = await driveCounting(
      ctx,
      'ejected',
      [{ url }],
      () => `${name} still ejected after ${seconds} s, ${outcomes.length + 1} requests elsewhere`,
      { concurrency: 1 },
    );
    outcomes.push(outcome!);
    await delay(GAP_MS, undefined, { signal: ctx.signal });
  }
  return { outcomes, returned: true };
}

/** Outcomes answered by instance `name`. */
export function answeredBy(outcomes: readonly Outcome[], name: string): number {
  return outcomes.filter((o) => o.instance === name).length;
}
