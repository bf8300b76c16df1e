/**
 * The calling workload: who is asking for configuration. Istio generates different config per
 * proxy (short names resolve against its namespace, sourceLabels routes apply only to matching
 * workloads, locality priorities are relative to its locality), so translation needs it.
 */
import { ConfigError, type ConfigIssue } from './errors.ts';

/** Public description of the workload Dabba runs in. Every field is optional. */
export interface WorkloadOptions {
  /** Kubernetes namespace of this workload. Default `default`. */
  readonly namespace?: string;
  /** Kubernetes service account. Default `default`. */
  readonly serviceAccount?: string;
  /** Workload labels (`app`, `version`, ...). Default none. */
  readonly labels?: Readonly<Record<string, string>>;
  /** `region/zone/subzone` (any suffix may be omitted). Default none: no locality preference. */
  readonly locality?: string;
  /** Network name (`topology.istio.io/network`). Default empty. */
  readonly network?: string;
  /** Kubernetes cluster DNS domain. Default `cluster.local`. */
  readonly clusterDomain?: string;
  /** SPIFFE trust domain. Default `cluster.local`, as Istio's. */
  readonly trustDomain?: string;
}

export interface Locality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** A workload with every field resolved and frozen. */
export interface Workload {
  readonly namespace: string;
  readonly serviceAccount: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly locality: Locality;
  readonly network: string;
  readonly clusterDomain: string;
  readonly trustDomain: string;
}

export const WORKLOAD_DEFAULTS = Object.freeze({
  namespace: 'default',
  serviceAccount: 'default',
  clusterDomain: 'cluster.local',
  trustDomain: 'cluster.local',
});

/** Parses `region/zone/subzone` (Istio's locality string); missing parts are empty. */
export function parseLocality(text: string | undefined): Locality {
  const [region = '', zone = '', subZone = ''] = (text ?? '').split('/');
  return { region, zone, subZone };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Validates and freezes workload options; throws ConfigError listing every problem. */
export function resolveWorkload(options: WorkloadOptions = {}, source = 'createMesh options'): Workload {
  const issues: ConfigIssue[] = [];
  const check = (ok: boolean, path: string, message: string) => {
    if (!ok) issues.push({ source, path, message });
  };
  const namespace = options.namespace ?? WORKLOAD_DEFAULTS.namespace;
  check(DNS_LABEL.test(namespace), 'workload.namespace', `"${namespace}" is not a valid namespace name`);
  const locality = options.locality ?? '';
  check(locality.split('/').length <= 3, 'workload.locality', `"${locality}" must be region/zone/subzone`);
  for (const [k, v] of Object.entries(options.labels ?? {})) {
    check(typeof v === 'string', `workload.labels.${k}`, 'label values must be strings');
  }
  if (issues.length > 0) throw new ConfigError(issues);
  return Object.freeze({
    namespace,
    serviceAccount: options.serviceAccount ?? WORKLOAD_DEFAULTS.serviceAccount,
    labels: Object.freeze({ ...(options.labels ?? {}) }),
    locality: Object.freeze(parseLocality(locality)),
    network: options.network ?? '',
    clusterDomain: options.clusterDomain ?? WORKLOAD_DEFAULTS.clusterDomain,
    trustDomain: options.trustDomain ?? WORKLOAD_DEFAULTS.trustDomain,
  });
}
