/**
 * A temporary folder of Istio YAML for a test: real Istio samples copied from the fixtures, plus
 * ServiceEntries/WorkloadEntries written with the ports the test's real upstreams got from the OS.
 */
import { mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const FIXTURES = path.join(import.meta.dirname, '..', 'fixtures');

export interface MeshFolder {
  readonly dir: string;
  /** Writes a file atomically (write + rename), as editors and config managers do. */
  write(name: string, text: string): Promise<void>;
  /** Copies a fixture file into the folder. */
  copyFixture(relative: string, as?: string): Promise<void>;
  remove(): Promise<void>;
}

export async function createMeshFolder(): Promise<MeshFolder> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dabba-mesh-'));
  let n = 0;
  const folder: MeshFolder = {
    dir,
    async write(name, text) {
      const tmp = path.join(dir, `.${name}.${n++}.tmp`);
      await writeFile(tmp, text);
      await rename(tmp, path.join(dir, name));
    },
    async copyFixture(relative, as) {
      await folder.write(
        as ?? path.basename(relative),
        await readFile(path.join(FIXTURES, relative), 'utf8'),
      );
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  return folder;
}

export interface WorkloadSpec {
  readonly name: string;
  readonly port: number;
  readonly labels: Record<string, string>;
  readonly locality?: string;
  readonly weight?: number;
}

/**
 * A MESH_INTERNAL ServiceEntry for `<service>.<namespace>.svc.cluster.local` on `servicePort`
 * plus one WorkloadEntry per workload, selected by the `app` label, as Istio describes VMs.
 */
export function serviceYaml(
  service: string,
  servicePort: number,
  workloads: readonly WorkloadSpec[],
  namespace = 'default',
  protocol = 'HTTP',
): string {
  const docs = [
    `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: ${service}
  namespace: ${namespace}
spec:
  hosts: [${service}.${namespace}.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
    - { number: ${servicePort}, name: http, protocol: ${protocol} }
  workloadSelector:
    labels: { app: ${service} }`,
  ];
  for (const w of workloads) {
    const labels = { app: service, ...w.labels };
    docs.push(`apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata:
  name: ${w.name}
  namespace: ${namespace}
spec:
  address: 127.0.0.1
  ports: { http: ${w.port} }
  labels: { ${Object.entries(labels)
    .map(([k, v]) => `${k}: ${v}`)
    .join(
      ', ',
    )} }${w.locality ? `\n  locality: ${w.locality}` : ''}${w.weight ? `\n  weight: ${w.weight}` : ''}`);
  }
  return `${docs.join('\n---\n')}\n`;
}

/**
 * A DestinationRule for `host` whose subsets select by the `version` label: `{ v1: 'v1' }` gives
 * the subset `v1` of the endpoints labelled `version: v1`.
 */
export function versionSubsetsYaml(host: string, subsets: Readonly<Record<string, string>>): string {
  const lines = Object.entries(subsets).map(
    ([name, version]) => `    - { name: ${name}, labels: { version: ${version} } }\n`,
  );
  return `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${host} }
spec:
  host: ${host}
  subsets:
${lines.join('')}`;
}

/**
 * A VirtualService for `host` with one HTTP route to it, carrying `routeLines` (YAML entries of
 * the route, e.g. `retries: { attempts: 1 }`), as the resilience tests configure one policy each.
 */
export function routeYaml(host: string, ...routeLines: string[]): string {
  return `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: ${host} }
spec:
  hosts: [${host}]
  http:
    - route: [{ destination: { host: ${host} } }]
${routeLines.map((l) => `      ${l}\n`).join('')}`;
}

/** Polls `check` until it returns true or `timeoutMs` passes. */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}
