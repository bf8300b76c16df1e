import { fromBinary } from '@bufbuild/protobuf';
import { type Struct, StructSchema } from '@bufbuild/protobuf/wkt';
import { MAX_PEER_METADATA_LENGTH } from './peer-metadata-headers.ts';
import { PEER_FIELDS, PEER_LABELS, type PeerWorkload } from './peer-workload.ts';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Reads an `x-envoy-peer-metadata` value, as istio/proxy's `MXMethod::lookup` does: base64
 * (padding optional), then a serialized `google.protobuf.Struct`, then
 * `convertStructToWorkloadMetadata` (string fields only; anything else counts as empty).
 *
 * Untrusted input: a value longer than {@link MAX_PEER_METADATA_LENGTH}, not base64, or not a
 * Struct gives `undefined` (the request is then treated as having no peer metadata, as the
 * filter does when parsing fails). Never throws.
 */
export function decodePeerMetadata(value: string | undefined): PeerWorkload | undefined {
  if (value === undefined || value.length === 0 || value.length > MAX_PEER_METADATA_LENGTH) return undefined;
  if (!BASE64.test(value)) return undefined;
  let struct: Struct;
  try {
    struct = fromBinary(StructSchema, Buffer.from(value, 'base64'), { readUnknownFields: false });
  } catch {
    return undefined;
  }
  const fields = struct.fields;
  const text = (s: Struct | undefined, key: string): string => {
    const kind = s?.fields[key]?.kind;
    return kind?.case === 'stringValue' ? kind.value : '';
  };
  const labelsKind = fields[PEER_FIELDS.labels]?.kind;
  const labels = labelsKind?.case === 'structValue' ? labelsKind.value : undefined;
  return {
    instanceName: text(struct, PEER_FIELDS.instanceName),
    namespace: text(struct, PEER_FIELDS.namespace),
    workloadName: text(struct, PEER_FIELDS.workloadName),
    clusterId: text(struct, PEER_FIELDS.clusterId),
    canonicalService: text(labels, PEER_LABELS.canonicalService),
    canonicalRevision: text(labels, PEER_LABELS.canonicalRevision),
    app: text(labels, PEER_LABELS.app) || text(labels, PEER_LABELS.appQualified),
    version: text(labels, PEER_LABELS.version) || text(labels, PEER_LABELS.versionQualified),
  };
}
