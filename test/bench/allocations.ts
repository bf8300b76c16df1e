/**
 * Bytes allocated per request, as V8's sampling heap profiler counts them with the objects the
 * young and old collectors have freed included (HeapProfiler.startSampling with
 * includeObjectsCollectedBy{Minor,Major}GC): what each request makes the garbage collector copy
 * or sweep, the cause of the latency tail at a fixed rate. Measured in this process, over a
 * closed loop of requests after a warm-up.
 */
import { Session } from 'node:inspector/promises';
import { type Dispatcher, request } from 'undici';

interface SamplingNode {
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly selfSize: number;
  readonly children: readonly SamplingNode[];
}

export interface AllocationResult {
  /** Estimated bytes allocated per request (all code: undici, Node, Dabba). */
  readonly bytesPerRequest: number;
  /** The same, counting only functions of Dabba's own sources. */
  readonly dabbaBytesPerRequest: number;
  /** Dabba's heaviest allocation sites, `function file:line` with bytes per request. */
  readonly topDabbaSites: readonly { readonly site: string; readonly bytes: number }[];
}

const DABBA_SOURCE = /\/packages\/(client|core|discovery)\/(src|dist)\//;

async function closedLoop(url: string, dispatcher: Dispatcher, requests: number, concurrency: number) {
  let left = requests;
  const worker = async () => {
    while (left-- > 0) {
      const res = await request(url, { dispatcher });
      await res.body.dump();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** Allocation per request for `requests` requests to `url` through `dispatcher`. */
export async function allocationsPerRequest(
  url: string,
  dispatcher: Dispatcher,
  requests: number,
  concurrency: number,
): Promise<AllocationResult> {
  await closedLoop(url, dispatcher, Math.min(2000, requests), concurrency);
  const session = new Session();
  session.connect();
  try {
    await session.post('HeapProfiler.enable');
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 1024,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    });
    await closedLoop(url, dispatcher, requests, concurrency);
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as {
      profile: { head: SamplingNode };
    };
    let total = 0;
    let dabba = 0;
    const sites = new Map<string, number>();
    const visit = (node: SamplingNode) => {
      total += node.selfSize;
      const f = node.callFrame;
      if (DABBA_SOURCE.test(f.url)) {
        dabba += node.selfSize;
        const site = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
        sites.set(site, (sites.get(site) ?? 0) + node.selfSize);
      }
      for (const child of node.children) visit(child);
    };
    visit(profile.head);
    return {
      bytesPerRequest: total / requests,
      dabbaBytesPerRequest: dabba / requests,
      topDabbaSites: [...sites]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 8)
        .map(([site, bytes]) => ({ site, bytes: bytes / requests })),
    };
  } finally {
    await session.post('HeapProfiler.disable').catch(() => {});
    session.disconnect();
  }
}
