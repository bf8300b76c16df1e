/**
 * `--soak`: a million requests through the mesh with the resilient policy (every answer 200),
 * sampling the heap to show that nothing accumulates per request. Requests run in blocks of
 * 100,000 (64 in flight); after each block the loop drains, a full GC runs, and heapUsed is read.
 * The first block is warm-up (JIT, pools, caches); the samples after blocks 1..10 are compared.
 */
import { createMesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder } from '../support/mesh-folder.ts';
import type { Pinning } from './cpu-pinning.ts';
import { RESILIENT, RESILIENT_HOST } from './resilience-config.ts';
import { REQUEST_PATH, routedServiceYaml, SERVICE_PORT } from './throughput-config.ts';
import { startUpstreamProcess } from './upstream-process.ts';

export interface SoakOptions {
  readonly totalRequests: number;
  readonly blockRequests: number;
  readonly concurrency: number;
  /** Growth from first to last sample below which the heap counts as flat. */
  readonly maxGrowthBytes: number;
}

export interface SoakSample {
  readonly requests: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
}

export interface SoakResult {
  readonly options: SoakOptions;
  /** heapUsed after warm-up, then after every block; `requests` is the running total. */
  readonly samples: readonly SoakSample[];
  /** Last sample minus first (after warm-up). */
  readonly growthBytes: number;
  /** Highest minus lowest sample: the noise the growth is judged against. */
  readonly rangeBytes: number;
  readonly errors: number;
  readonly seconds: number;
}

async function fullGc(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('--soak needs node --expose-gc (npm run bench passes it)');
  // Twice, with a turn of the event loop between, so objects freed by finalizers and by the
  // first collection's weak callbacks are gone too.
  gc();
  await new Promise((resolve) => setImmediate(resolve));
  gc();
}

export async function runSoak(pinning: Pinning, options: SoakOptions): Promise<SoakResult> {
  const upstream = await startUpstreamProcess(pinning, 4);
  const folder = await createMeshFolder();
  await folder.write('mesh.yaml', routedServiceYaml(upstream.ports, RESILIENT_HOST, RESILIENT));
  const mesh = await createMesh({
    workload: { namespace: 'default' },
    config: istioFiles(folder.dir, { watch: false }),
    logger: null,
  });
  const url = `http://${RESILIENT_HOST}:${SERVICE_PORT}${REQUEST_PATH}`;
  let errors = 0;
  const block = async (n: number) => {
    let issued = 0;
    const worker = async () => {
      while (issued < n) {
        issued++;
        try {
          const res = await request(url, { dispatcher: mesh });
          await res.body.dump();
          if (res.statusCode !== 200) errors++;
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
  };
  const samples: SoakSample[] = [];
  const sample = async (requests: number) => {
    await fullGc();
    const m = process.memoryUsage();
    samples.push({ requests, heapUsedBytes: m.heapUsed, rssBytes: m.rss });
  };
  const start = performance.now();
  try {
    let done = 0;
    while (done < options.totalRequests) {
      const n = Math.min(options.blockRequests, options.totalRequests - done);
      await block(n);
      done += n;
      await sample(done);
    }
  } finally {
    await mesh.close();
    await folder.remove();
    await upstream.stop();
  }
  const heap = samples.map((s) => s.heapUsedBytes);
  return {
    options,
    samples,
    growthBytes: heap.length > 1 ? heap.at(-1)! - heap[0]! : 0,
    rangeBytes: Math.max(...heap) - Math.min(...heap),
    errors,
    seconds: (performance.now() - start) / 1000,
  };
}
