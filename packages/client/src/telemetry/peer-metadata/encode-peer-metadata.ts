import { networkInterfaces, hostname as osHostname } from 'node:os';
import { create, toBinary } from '@bufbuild/protobuf';
import { StructSchema, type Value, ValueSchema } from '@bufbuild/protobuf/wkt';
import type { Workload } from '@dabba/discovery';
import { ISTIO_LATEST, ISTIO_UNKNOWN } from '../istio-metric-names.ts';
import { istioSourceLabels } from '../istio-peer-labels.ts';
import { PEER_FIELDS, PEER_LABELS } from './peer-workload.ts';

/** The two exchange header values of this workload, computed once per mesh. */
export interface LocalPeerMetadata {
  /** `x-envoy-peer-metadata`: base64 of the serialized Struct. */
  readonly value: string;
  /** `x-envoy-peer-metadata-id`: an Envoy sidecar node id for this process. */
  readonly id: string;
}

/** Where this process runs: what a sidecar reads from its pod (POD_NAME, INSTANCE_IP). */
export interface LocalInstance {
  /** The pod name (Kubernetes sets the hostname to it). */
  readonly name: string;
  /** The pod IP. */
  readonly ip: string;
}

/** This process as a pod: the hostname and the first non-internal IPv4 address (else 127.0.0.1). */
export function localInstance(): LocalInstance {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.family === 'IPv4' && !a.internal) return { name: osHostname(), ip: a.address };
    }
  }
  return { name: osHostname(), ip: '127.0.0.1' };
}

/**
 * The metadata a sidecar of this workload would send: istio/proxy's `MXPropagationMethod`
 * computes it once from the node metadata through `convertWorkloadMetadataToStruct`, which keeps
 * NAME, NAMESPACE, WORKLOAD_NAME, CLUSTER_ID, OWNER (only when the workload kind is known) and, in
 * LABELS, the canonical service and revision, `app` and `version`; empty values are left out.
 * Serialized deterministically (map keys sorted) and base64 encoded with padding, as
 * `serializeToStringDeterministic` and `Base64::encode` do.
 *
 * The values are the ones Dabba's own `reporter="source"` labels use (istio-peer-labels.ts), so a
 * Dabba client and the server it calls agree on who the client is. Dabba knows no Deployment
 * kind and no cluster id: OWNER and CLUSTER_ID are not sent.
 */
export function encodePeerMetadata(workload: Workload, instance: LocalInstance): LocalPeerMetadata {
  const own = istioSourceLabels(workload);
  const known = (v: string) => (v === ISTIO_UNKNOWN ? '' : v);
  const labels: Record<string, string> = {
    [PEER_LABELS.canonicalService]: known(own.source_canonical_service),
    // A sidecar's injector always sets the revision label (`latest` when there is no version).
    [PEER_LABELS.canonicalRevision]: own.source_canonical_revision || ISTIO_LATEST,
    [PEER_LABELS.app]: known(own.source_app),
    [PEER_LABELS.version]: known(own.source_version),
  };
  const top: Record<string, string> = {
    [PEER_FIELDS.instanceName]: instance.name,
    [PEER_FIELDS.namespace]: workload.namespace,
    [PEER_FIELDS.workloadName]: known(own.source_workload),
  };
  const fields: Record<string, Value> = {};
  for (const key of [...Object.keys(top), PEER_FIELDS.labels].sort()) {
    if (key === PEER_FIELDS.labels) {
      const inner: Record<string, Value> = {};
      for (const k of Object.keys(labels).sort()) if (labels[k] !== '') inner[k] = str(labels[k]!);
      fields[key] = create(ValueSchema, {
        kind: { case: 'structValue', value: create(StructSchema, { fields: inner }) },
      });
    } else if (top[key] !== '') {
      fields[key] = str(top[key]!);
    }
  }
  const bytes = toBinary(StructSchema, create(StructSchema, { fields }));
  const ns = workload.namespace;
  return Object.freeze({
    value: Buffer.from(bytes).toString('base64'),
    // Envoy's sidecar node id: type~ip~id.namespace~dns-domain (istio pkg/model/context.go).
    id: `sidecar~${instance.ip}~${instance.name}.${ns}~${ns}.svc.${workload.clusterDomain}`,
  });
}

function str(value: string): Value {
  return create(ValueSchema, { kind: { case: 'stringValue', value } });
}
