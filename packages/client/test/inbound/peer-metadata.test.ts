/**
 * Istio's HTTP metadata exchange values (istio/proxy extensions/common/metadata_object.{h,cc},
 * source/extensions/filters/http/peer_metadata/filter.cc): the Struct Dabba sends for its
 * workload, what it reads from a sidecar's, how untrusted input is bounded, and how the headers
 * are set on an outbound request.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { create, fromBinary, toBinary } from '@bufbuild/protobuf';
import { StructSchema, type Value, ValueSchema } from '@bufbuild/protobuf/wkt';
import { resolveWorkload } from '@dabba/discovery';
import { decodePeerMetadata } from '../../src/telemetry/peer-metadata/decode-peer-metadata.ts';
import { encodePeerMetadata } from '../../src/telemetry/peer-metadata/encode-peer-metadata.ts';
import { MAX_PEER_METADATA_LENGTH } from '../../src/telemetry/peer-metadata/peer-metadata-headers.ts';
import { istioPeerSourceLabels } from '../../src/telemetry/peer-metadata/peer-source-labels.ts';
import { withPeerMetadataHeaders } from '../../src/telemetry/peer-metadata/with-peer-metadata.ts';

const str = (value: string): Value => create(ValueSchema, { kind: { case: 'stringValue', value } });

function struct(fields: Record<string, string | Record<string, string>>): string {
  const all: Record<string, Value> = {};
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') {
      all[k] = str(v);
    } else {
      const inner: Record<string, Value> = {};
      for (const [lk, lv] of Object.entries(v)) inner[lk] = str(lv);
      all[k] = create(ValueSchema, {
        kind: { case: 'structValue', value: create(StructSchema, { fields: inner }) },
      });
    }
  }
  return Buffer.from(toBinary(StructSchema, create(StructSchema, { fields: all }))).toString('base64');
}

const INSTANCE = { name: 'productpage-7d9c-x2x', ip: '10.1.2.3' };

describe('encodePeerMetadata (MXPropagationMethod::computeValue)', () => {
  test('the keys and labels convertWorkloadMetadataToStruct keeps, and a sidecar node id', () => {
    const workload = resolveWorkload({
      namespace: 'bookinfo',
      labels: { app: 'productpage', version: 'v1', 'pod-template-hash': '7d9c' },
    });
    const { value, id } = encodePeerMetadata(workload, INSTANCE);
    const s = fromBinary(StructSchema, Buffer.from(value, 'base64'));
    assert.deepEqual(Object.keys(s.fields), ['LABELS', 'NAME', 'NAMESPACE', 'WORKLOAD_NAME']);
    assert.equal(s.fields.NAME!.kind.value, 'productpage-7d9c-x2x');
    assert.equal(s.fields.NAMESPACE!.kind.value, 'bookinfo');
    assert.equal(s.fields.WORKLOAD_NAME!.kind.value, 'productpage');
    const labels = s.fields.LABELS!.kind.value as { fields: Record<string, Value> };
    // Only the four labels the stats filter reads; other pod labels are not sent.
    assert.deepEqual(Object.fromEntries(Object.entries(labels.fields).map(([k, v]) => [k, v.kind.value])), {
      app: 'productpage',
      'service.istio.io/canonical-name': 'productpage',
      'service.istio.io/canonical-revision': 'v1',
      version: 'v1',
    });
    assert.equal(id, 'sidecar~10.1.2.3~productpage-7d9c-x2x.bookinfo~bookinfo.svc.cluster.local');
  });

  test('deterministic: the same workload encodes to the same bytes, whatever the label order', () => {
    const a = encodePeerMetadata(resolveWorkload({ labels: { version: 'v2', app: 'x' } }), INSTANCE);
    const b = encodePeerMetadata(resolveWorkload({ labels: { app: 'x', version: 'v2' } }), INSTANCE);
    assert.equal(a.value, b.value);
  });

  test('round trip: what Dabba sends, Dabba reads as the same source labels it records itself', () => {
    const workload = resolveWorkload({ namespace: 'shop', labels: { app: 'cart', version: 'v3' } });
    const peer = decodePeerMetadata(encodePeerMetadata(workload, INSTANCE).value);
    assert.deepEqual(istioPeerSourceLabels(peer), {
      source_workload: 'cart',
      source_workload_namespace: 'shop',
      source_principal: 'unknown',
      source_app: 'cart',
      source_version: 'v3',
      source_canonical_service: 'cart',
      source_canonical_revision: 'v3',
      source_cluster: 'unknown',
    });
  });

  test('a workload with no labels sends no empty values; the revision is latest', () => {
    const { value } = encodePeerMetadata(resolveWorkload({}), INSTANCE);
    const peer = decodePeerMetadata(value)!;
    assert.equal(peer.workloadName, '');
    assert.equal(peer.app, '');
    assert.equal(peer.canonicalRevision, 'latest');
  });
});

describe('decodePeerMetadata (MXMethod::lookup, convertStructToWorkloadMetadata)', () => {
  test('a sidecar value: every field the stats filter reads; OWNER and unknown labels ignored', () => {
    const peer = decodePeerMetadata(
      struct({
        NAME: 'reviews-v2-5b8f-abc',
        NAMESPACE: 'bookinfo',
        WORKLOAD_NAME: 'reviews-v2',
        CLUSTER_ID: 'Kubernetes',
        OWNER: 'kubernetes://apis/apps/v1/namespaces/bookinfo/deployments/reviews-v2',
        MESH_ID: 'cluster.local',
        LABELS: {
          app: 'reviews',
          version: 'v2',
          'service.istio.io/canonical-name': 'reviews',
          'service.istio.io/canonical-revision': 'v2',
          'security.istio.io/tlsMode': 'istio',
        },
      }),
    );
    assert.deepEqual(peer, {
      instanceName: 'reviews-v2-5b8f-abc',
      namespace: 'bookinfo',
      workloadName: 'reviews-v2',
      clusterId: 'Kubernetes',
      canonicalService: 'reviews',
      canonicalRevision: 'v2',
      app: 'reviews',
      version: 'v2',
    });
  });

  test('app.kubernetes.io/name and /version stand in for app and version', () => {
    const peer = decodePeerMetadata(
      struct({ LABELS: { 'app.kubernetes.io/name': 'cart', 'app.kubernetes.io/version': '1.2' } }),
    );
    assert.equal(peer?.app, 'cart');
    assert.equal(peer?.version, '1.2');
  });

  test('unpadded base64 is read, as Base64::decodeWithoutPadding does', () => {
    const padded = struct({ NAMESPACE: 'ns1' });
    assert.equal(decodePeerMetadata(padded.replace(/=+$/, ''))?.namespace, 'ns1');
  });

  test('non-string values count as empty', () => {
    const s = create(StructSchema, {
      fields: { NAMESPACE: create(ValueSchema, { kind: { case: 'numberValue', value: 3 } }) },
    });
    const peer = decodePeerMetadata(Buffer.from(toBinary(StructSchema, s)).toString('base64'));
    assert.equal(peer?.namespace, '');
  });

  test('malformed input is ignored, never thrown', () => {
    for (const bad of [
      undefined,
      '',
      'not base64!',
      '%%%%',
      Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]).toString('base64'),
      Buffer.from([0x0a, 0x05, 0x0a, 0x01]).toString('base64'),
    ]) {
      assert.equal(decodePeerMetadata(bad), undefined, String(bad));
    }
  });

  test(`values longer than ${MAX_PEER_METADATA_LENGTH} characters are ignored`, () => {
    const big = struct({ NAMESPACE: 'n', WORKLOAD_NAME: 'w'.repeat(MAX_PEER_METADATA_LENGTH) });
    assert.ok(big.length > MAX_PEER_METADATA_LENGTH);
    assert.equal(decodePeerMetadata(big), undefined);
    const fits = struct({ NAMESPACE: 'n', WORKLOAD_NAME: 'w'.repeat(2000) });
    assert.ok(fits.length <= MAX_PEER_METADATA_LENGTH);
    assert.equal(decodePeerMetadata(fits)?.workloadName.length, 2000);
  });

  test('fuzz: 5000 random byte strings (seeded) decode or are ignored, never throw', () => {
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    for (let i = 0; i < 5000; i++) {
      const bytes = Buffer.alloc(1 + (next() % 200));
      for (let j = 0; j < bytes.length; j++) bytes[j] = next() & 0xff;
      const peer = decodePeerMetadata(bytes.toString('base64'));
      if (peer !== undefined) for (const v of Object.values(peer)) assert.equal(typeof v, 'string');
    }
  });
});

describe('withPeerMetadataHeaders (outbound, MXPropagationMethod::inject)', () => {
  const local = { value: 'VALUE', id: 'ID' };

  test('a flat array and an object are copied with both headers set; the input is untouched', () => {
    const arr = ['accept', '*/*'];
    assert.deepEqual(withPeerMetadataHeaders(arr, local), [
      'accept',
      '*/*',
      'x-envoy-peer-metadata',
      'VALUE',
      'x-envoy-peer-metadata-id',
      'ID',
    ]);
    assert.deepEqual(arr, ['accept', '*/*']);
    const obj = { accept: '*/*' };
    assert.deepEqual(withPeerMetadataHeaders(obj, local), {
      accept: '*/*',
      'x-envoy-peer-metadata': 'VALUE',
      'x-envoy-peer-metadata-id': 'ID',
    });
    assert.deepEqual(obj, { accept: '*/*' });
    assert.deepEqual(withPeerMetadataHeaders(undefined, local), {
      'x-envoy-peer-metadata': 'VALUE',
      'x-envoy-peer-metadata-id': 'ID',
    });
  });

  test('values the application sent are replaced, in any case, as Envoy sets the headers', () => {
    assert.deepEqual(
      withPeerMetadataHeaders(['X-Envoy-Peer-Metadata', 'forged', 'x-envoy-peer-metadata-id', 'f'], local),
      ['x-envoy-peer-metadata', 'VALUE', 'x-envoy-peer-metadata-id', 'ID'],
    );
    assert.deepEqual(withPeerMetadataHeaders({ 'X-ENVOY-PEER-METADATA': 'forged' }, local), {
      'x-envoy-peer-metadata': 'VALUE',
      'x-envoy-peer-metadata-id': 'ID',
    });
  });

  test('an iterable of pairs is left to the caller (a header record)', () => {
    assert.equal(withPeerMetadataHeaders([['accept', '*/*']] as never, local), undefined);
    assert.equal(withPeerMetadataHeaders(new Map([['accept', '*/*']]) as never, local), undefined);
  });
});
