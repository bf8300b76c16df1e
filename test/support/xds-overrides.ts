/**
 * Istio YAML translated as istiod would, then edited at the xDS level before the mesh sees it:
 * for settings Istio's API does not expose (RetryPolicy.per_try_idle_timeout, the success-rate
 * and failure-percentage outlier detectors) but an xDS control plane may send.
 */
import {
  type Cluster,
  type ConfigSource,
  createSnapshot,
  type IstioResourceSet,
  parseIstioYaml,
  type RouteConfiguration,
  translateIstio,
  type Workload,
  type XdsResourceLists,
} from '@dabba/discovery';

/** What an override may edit in place: the translated resources, as lists. */
export interface XdsEdit {
  readonly clusters: readonly Cluster[];
  readonly routes: readonly RouteConfiguration[];
}

/** A config source serving one snapshot: `yaml` translated for the workload, then `edit`ed. */
export function istioWithXdsEdits(yaml: string, edit: (resources: XdsEdit) => void): ConfigSource {
  return {
    name: 'test:istio+xds-edits',
    subscribe(workload: Workload, listener) {
      const parsed = parseIstioYaml('test.yaml', yaml);
      const of = <K extends string>(kind: K) => parsed.resources.filter((r) => r.kind === kind);
      const set = {
        virtualServices: of('VirtualService'),
        destinationRules: of('DestinationRule'),
        serviceEntries: of('ServiceEntry'),
        workloadEntries: of('WorkloadEntry'),
      } as unknown as IstioResourceSet;
      const lists: XdsResourceLists = translateIstio(set, workload).resources;
      edit(lists);
      // Delivered asynchronously, as a real source would.
      queueMicrotask(() => listener.onSnapshot(createSnapshot('1', 'test', lists)));
      return { close: async () => {} };
    },
  };
}

/** The cluster whose name ends with `|<fqdn>` (Istio's `outbound|<port>|<subset>|<fqdn>`). */
export function clusterFor(resources: XdsEdit, fqdn: string): Cluster {
  const c = resources.clusters.find((x) => x.name.endsWith(`|${fqdn}`));
  if (c === undefined) throw new Error(`no cluster for ${fqdn}`);
  return c;
}
