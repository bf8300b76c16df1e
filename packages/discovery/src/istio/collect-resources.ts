/**
 * The resources of every file of a load, grouped by kind, with the same kind/namespace/name
 * declared twice reported against the second place (naming the first).
 */
import type { ConfigIssue } from '../errors.ts';
import { runSteps, type Steps } from '../steps.ts';
import type { IstioResource, IstioResourceSet } from './istio-resource.ts';

/** Groups parsed resources by kind and reports the same kind/namespace/name declared twice. */
export function collectResources(
  resources: readonly IstioResource[],
  issues: ConfigIssue[],
): IstioResourceSet {
  return runSteps(collectResourcesSteps(resources, issues));
}

/** {@link collectResources} as steps: it pauses every few hundred resources. */
export function* collectResourcesSteps(
  resources: readonly IstioResource[],
  issues: ConfigIssue[],
): Steps<IstioResourceSet> {
  const seen = new Map<string, IstioResource>();
  const set = { virtualServices: [], destinationRules: [], serviceEntries: [], workloadEntries: [] } as {
    [K in keyof IstioResourceSet]: IstioResourceSet[K][number][];
  };
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i]!;
    if (i % 256 === 255) yield;
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    const prior = seen.get(key);
    if (prior) {
      issues.push({
        source: r.origin.source,
        line: r.origin.line,
        resource: { kind: r.kind, namespace: r.namespace, name: r.name },
        path: 'metadata.name',
        message: `already declared at ${prior.origin.source}:${prior.origin.line}`,
      });
      continue;
    }
    seen.set(key, r);
    if (r.kind === 'VirtualService') set.virtualServices.push(r);
    else if (r.kind === 'DestinationRule') set.destinationRules.push(r);
    else if (r.kind === 'ServiceEntry') set.serviceEntries.push(r);
    else set.workloadEntries.push(r);
  }
  return set;
}
