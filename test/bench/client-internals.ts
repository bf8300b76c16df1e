/**
 * The client's policy modules, reached by path: `@dabba/client` exports only its public API,
 * and the micro-benchmarks time the pieces under it (route table, load balancers, snapshot
 * compiler, request decision). The modules are loaded at run time, not imported statically,
 * so this project's type check stays inside its own root; the shapes below declare only what
 * the benchmark calls, and a mismatch shows up as a failing benchmark run.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RouteConfigurationModel, Snapshot } from '@dabba/discovery';

const CLIENT_SRC = path.join(import.meta.dirname, '..', '..', 'packages', 'client', 'src');

async function load<T>(relative: string): Promise<T> {
  return (await import(pathToFileURL(path.join(CLIENT_SRC, relative)).href)) as T;
}

export interface BenchLocality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** Mirrors lb/host.ts `Host`. */
export interface BenchHost {
  readonly key: string;
  readonly address: string;
  readonly port: number;
  readonly weight: number;
  readonly locality: BenchLocality;
  readonly labels: Readonly<Record<string, string>>;
  health: 'healthy' | 'degraded' | 'unhealthy';
  activeRequests: number;
}

export interface PickContext {
  readonly hash?: bigint | number;
}

export interface LoadBalancer {
  pick(ctx?: PickContext): BenchHost | undefined;
}

/** Opaque here: built by buildLbPlan and only handed back to createLoadBalancer. */
export interface LbPlan {
  readonly priorities: readonly unknown[];
}

export type LbPolicyType = 'ROUND_ROBIN' | 'LEAST_REQUEST' | 'RANDOM' | 'RING_HASH' | 'MAGLEV';

export interface LbModule {
  initHash(): Promise<void>;
  buildLbPlan(
    priorities: readonly (readonly { locality?: BenchLocality; hosts: readonly BenchHost[] }[])[],
  ): LbPlan;
  createLoadBalancer(policy: LbPolicyType, plan: LbPlan, options?: { seed?: number }): LoadBalancer;
}

export interface RequestView {
  readonly method: string;
  readonly scheme: string;
  readonly authority: string;
  readonly path: string;
  readonly query: string;
  readonly headers:
    | ((name: string) => string | readonly string[] | undefined)
    | Readonly<Record<string, string>>;
}

export interface RouteSelection {
  readonly route: { readonly name: string; readonly index: number };
}

export interface RouteTable {
  select(req: RequestView): RouteSelection | undefined;
  createContext(req: RequestView): unknown;
}

export interface RouteTableModule {
  compileRouteTable(config: RouteConfigurationModel): RouteTable;
}

export interface CompiledCluster {
  readonly name: string;
  readonly balancer: LoadBalancer | undefined;
}

export interface CompiledMesh {
  readonly routeTables: ReadonlyMap<number, RouteTable>;
  readonly clusters: ReadonlyMap<string, CompiledCluster>;
}

export interface CompileSnapshotModule {
  compileSnapshot(snapshot: Snapshot, previous: CompiledMesh | undefined, random: () => number): CompiledMesh;
}

export interface RequestTarget {
  readonly authority: string;
  readonly port: number;
  readonly scheme: string;
}

/** dispatch/incoming-request.ts: the request view over undici's dispatch options. */
export interface IncomingRequest extends RequestView {
  values(name: string): readonly string[] | undefined;
}

/** runtime/mesh-runtime.ts: each cluster's runtime state (the balancer picks come from). */
export interface MeshRuntime {
  apply(mesh: CompiledMesh): void;
  dispose(): void;
}

export type Decision =
  | { readonly kind: 'error' | 'local' | 'passthrough' }
  | {
      readonly kind: 'upstream';
      readonly state: { readonly balancer: LoadBalancer | undefined };
      readonly hash: bigint | undefined;
    };

export interface DecisionModules {
  parseTarget(origin: string): RequestTarget;
  IncomingRequest: new (
    method: string,
    scheme: string,
    authority: string,
    pathAndQuery: string,
    raw: unknown,
  ) => IncomingRequest;
  MeshRuntime: new () => MeshRuntime;
  resolveRequest(
    compiled: CompiledMesh,
    runtime: MeshRuntime,
    table: RouteTable | undefined,
    target: RequestTarget,
    request: IncomingRequest,
    ctx: unknown,
  ): Decision;
}

export const loadLb = (): Promise<LbModule> => load<LbModule>('lb/index.ts');
export const loadRouteTable = (): Promise<RouteTableModule> => load<RouteTableModule>('route/route-table.ts');
export const loadCompileSnapshot = (): Promise<CompileSnapshotModule> =>
  load<CompileSnapshotModule>('compile/compile-snapshot.ts');

export async function loadDecision(): Promise<DecisionModules> {
  const [target, headers, resolve, runtime] = await Promise.all([
    load<Pick<DecisionModules, 'parseTarget'>>('dispatch/request-target.ts'),
    load<Pick<DecisionModules, 'IncomingRequest'>>('dispatch/incoming-request.ts'),
    load<Pick<DecisionModules, 'resolveRequest'>>('dispatch/resolve-request.ts'),
    load<Pick<DecisionModules, 'MeshRuntime'>>('runtime/mesh-runtime.ts'),
  ]);
  return { ...target, ...headers, ...resolve, ...runtime };
}
