/**
 * Scene 7: retries hide a flaky instance. One of inventory's three instances answers 503 to
 * half its requests; `inventory-virtual-service.yaml` retries 5xx up to 3 times on another
 * instance. The caller sees no error while the instance keeps failing. Then the demo writes
 * the same VirtualService with `attempts: 0` (`edits/`) and every 503 reaches the caller.
 */
import { FLAKY_INVENTORY } from '../topology.ts';
import { type Outcome, percent } from '../traffic.ts';
import { applyEdit, driveCounting, repeat, type Scene } from './scene.ts';

const URL = 'http://inventory:8080/stock/42';
const REQUESTS = 600;
/** With retries, the caller's error rate must stay below this (percent). */
const MAX_ERROR_PERCENT_WITH_RETRIES = 1;

const failed = (outcomes: readonly Outcome[]) => outcomes.filter((o) => o.status !== 200).length;

export const retriesScene: Scene = async (ctx) => {
  const { display, fleet } = ctx;
  display.line(
    display.bold('7. Retries hide a flaky instance') + display.dim('  (inventory-virtual-service.yaml)'),
  );
  display.line(`   ${FLAKY_INVENTORY} answers 503 to half its requests; retries: attempts 3, retryOn 5xx`);
  const live = (o: readonly Outcome[]) => `caller errors ${percent(failed(o), o.length)}`;

  const start = await fleet.stats(FLAKY_INVENTORY);
  const on = await driveCounting(ctx, 'retries on ', repeat(REQUESTS, { url: URL }), live);
  const mid = await fleet.stats(FLAKY_INVENTORY);
  const hidden = mid.errors - start.errors;
  const onErrors = failed(on);
  display.line(
    `   retries on:  the caller saw ${onErrors} errors in ${on.length} requests (${percent(onErrors, on.length)}); ${FLAKY_INVENTORY} answered 503 ${hidden} times`,
  );

  const { reloadMs } = await applyEdit(
    ctx,
    'inventory-virtual-service.yaml',
    'edits/inventory-virtual-service-no-retries.yaml',
  );
  display.line(
    `   wrote inventory-virtual-service.yaml with retries attempts 0 (serving after ${reloadMs} ms)`,
  );
  const off = await driveCounting(ctx, 'retries off', repeat(REQUESTS, { url: URL }), live);
  const end = await fleet.stats(FLAKY_INVENTORY);
  const shown = end.errors - mid.errors;
  const offErrors = failed(off);
  display.line(
    `   retries off: the caller saw ${offErrors} errors in ${off.length} requests (${percent(offErrors, off.length)}); ${FLAKY_INVENTORY} answered 503 ${shown} times`,
  );
  const ok =
    (onErrors / on.length) * 100 <= MAX_ERROR_PERCENT_WITH_RETRIES &&
    hidden > 0 &&
    offErrors === shown &&
    offErrors > 0;
  display.line(
    `   ${ok ? display.good('with retries the caller never saw the flaky instance; without, it saw each of its 503s') : display.bad('off')}`,
  );
  return {
    name: 'retries',
    configured: 'inventory: attempts 3 on 5xx, then 0',
    measured: `caller errors ${percent(onErrors, on.length)} (instance 503s ${hidden}); without retries ${percent(offErrors, off.length)}`,
    ok,
    fields: {
      requests: on.length,
      'errors-with-retries': percent(onErrors, on.length),
      'instance-503s-with-retries': hidden,
      'errors-without-retries': percent(offErrors, off.length),
      'caller-503s-without-retries': offErrors,
      'instance-503s-without-retries': shown,
    },
  };
};
