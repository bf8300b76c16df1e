/**
 * The mesh's per-request policy work without sockets: what Mesh.dispatch does before it hands
 * the request to an endpoint pool (parse the origin, view the headers, select the route, pick
 * the weighted cluster, pick the endpoint, add the Host header). Not timed here: wrapping the
 * handler, the pool lookup and the upstream handler object; the throughput run's CPU figure
 * has everything.
 */
import { resolveWorkload } from '@dabba/discovery';
import { loadCompileSnapshot, loadDecision } from './client-internals.ts';
import { snapshotFromTexts } from './istio-set.ts';
import {
  FLOOR_HOST,
  floorServiceYaml,
  REQUEST_PATH,
  ROUTED_HOST,
  routedServiceYaml,
  SERVICE_PORT,
} from './throughput-config.ts';
import { type LoopOptions, nsPerOp } from './time-loop.ts';

export interface DecisionBenchResult {
  readonly routedNs: number;
  readonly floorNs: number;
}

export async function runDecisionBench(loop: LoopOptions): Promise<DecisionBenchResult> {
  const { compileSnapshot } = await loadCompileSnapshot();
  const { parseTarget, IncomingRequest, resolveRequest, MeshRuntime } = await loadDecision();
  const snapshot = snapshotFromTexts(
    [
      { name: 'routed.yaml', text: routedServiceYaml([9001, 9002, 9003, 9004]) },
      { name: 'floor.yaml', text: floorServiceYaml(9005) },
    ],
    resolveWorkload({}),
  );
  const compiled = compileSnapshot(snapshot, undefined, Math.random);
  const runtime = new MeshRuntime();
  runtime.apply(compiled);

  const decide = (origin: string): number => {
    const target = parseTarget(origin);
    const request = new IncomingRequest('GET', target.scheme, target.authority, REQUEST_PATH, undefined);
    const table = compiled.routeTables.get(target.port);
    const decision = resolveRequest(compiled, runtime, table, target, request, table?.createContext(request));
    if (decision.kind !== 'upstream') throw new Error(`${origin}: ${decision.kind}`);
    const host = decision.state.balancer!.pick(
      decision.hash === undefined ? undefined : { hash: decision.hash },
    );
    return host!.port;
  };
  const routed = `http://${ROUTED_HOST}:${SERVICE_PORT}`;
  const floor = `http://${FLOOR_HOST}:${SERVICE_PORT}`;
  decide(routed);
  decide(floor);
  try {
    return { routedNs: nsPerOp(() => decide(routed), loop), floorNs: nsPerOp(() => decide(floor), loop) };
  } finally {
    runtime.dispose();
  }
}
