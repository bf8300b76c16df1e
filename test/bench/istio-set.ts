/**
 * YAML texts -> the IstioResourceSet translateIstio takes, and on to a snapshot, the way
 * istioFiles() reads a folder (parse each file, group by kind). Any issue fails the benchmark,
 * since a bad config would time the error path.
 */
import {
  createSnapshot,
  type IstioResourceSet,
  parseIstioYaml,
  type Snapshot,
  translateIstio,
  type Workload,
} from '@dabba/discovery';

type MutableSet = { -readonly [K in keyof IstioResourceSet]: IstioResourceSet[K][number][] };

export function parseIstioTexts(files: readonly { name: string; text: string }[]): IstioResourceSet {
  const set: MutableSet = {
    virtualServices: [],
    destinationRules: [],
    serviceEntries: [],
    workloadEntries: [],
  };
  for (const { name, text } of files) {
    const parsed = parseIstioYaml(name, text);
    if (parsed.issues.length > 0) throw new Error(`${name}: ${parsed.issues[0]!.message}`);
    for (const r of parsed.resources) {
      if (r.kind === 'VirtualService') set.virtualServices.push(r);
      else if (r.kind === 'DestinationRule') set.destinationRules.push(r);
      else if (r.kind === 'ServiceEntry') set.serviceEntries.push(r);
      else set.workloadEntries.push(r);
    }
  }
  return set;
}

/** Parse + translate + snapshot, as istioFiles() does on each change; throws on any issue. */
export function snapshotFromTexts(
  files: readonly { name: string; text: string }[],
  workload: Workload,
): Snapshot {
  const result = translateIstio(parseIstioTexts(files), workload);
  if (result.issues.length > 0) throw new Error(result.issues[0]!.message);
  return createSnapshot('bench', 'bench', result.resources);
}
