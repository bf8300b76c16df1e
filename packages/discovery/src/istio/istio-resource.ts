/**
 * Istio networking resources as Dabba reads them: validated, with defaults not yet applied,
 * each remembering where it came from so later errors can point at the file and line.
 */
import type { DestinationRuleSpec } from './destination-rule-schema.ts';
import type { ServiceEntrySpec } from './service-entry-schema.ts';
import type { VirtualServiceSpec } from './virtual-service-schema.ts';
import type { WorkloadEntrySpec } from './workload-entry-schema.ts';

/** Where a resource was read from; `locate` maps a field path inside it to a 1-based line. */
export interface ResourceOrigin {
  readonly source: string;
  readonly line: number;
  readonly locate: (path: readonly (string | number)[]) => number | undefined;
}

interface ResourceBase<K extends string, S> {
  readonly kind: K;
  readonly apiVersion: string;
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: S;
  readonly origin: ResourceOrigin;
}

/** A validated `networking.istio.io` VirtualService. */
export type VirtualService = ResourceBase<'VirtualService', VirtualServiceSpec>;
/** A validated `networking.istio.io` DestinationRule. */
export type DestinationRule = ResourceBase<'DestinationRule', DestinationRuleSpec>;
/** A validated `networking.istio.io` ServiceEntry. */
export type ServiceEntry = ResourceBase<'ServiceEntry', ServiceEntrySpec>;
/** A validated `networking.istio.io` WorkloadEntry. */
export type WorkloadEntry = ResourceBase<'WorkloadEntry', WorkloadEntrySpec>;
export type IstioResource = VirtualService | DestinationRule | ServiceEntry | WorkloadEntry;
export type IstioKind = IstioResource['kind'];

/** The Istio resources one configuration source currently holds, by kind. */
export interface IstioResourceSet {
  readonly virtualServices: readonly VirtualService[];
  readonly destinationRules: readonly DestinationRule[];
  readonly serviceEntries: readonly ServiceEntry[];
  readonly workloadEntries: readonly WorkloadEntry[];
}

/** Formats a field path the way users read it: `spec.http[0].route[1].weight`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out;
}
