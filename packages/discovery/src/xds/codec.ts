/**
 * Encoding and decoding of xDS v3 resources: `Any` unpacking, binary protobuf and proto3 JSON
 * (Envoy's JSON/YAML form: `Any` carries `@type`, Durations are `"1.5s"`, wrappers are bare
 * values). Every failure is an {@link XdsDecodeError} carrying the type URL, so callers can NACK
 * the resource or report it as a configuration problem.
 */

import {
  type DescMessage,
  fromBinary,
  fromJson,
  type JsonValue,
  type Message,
  type MessageShape,
  toBinary,
  toJson,
} from '@bufbuild/protobuf';
import { type Any, anyPack, anyUnpack } from '@bufbuild/protobuf/wkt';
import type { Bootstrap } from '#xds/envoy/config/bootstrap/v3/bootstrap_pb.js';
import type { Cluster } from '#xds/envoy/config/cluster/v3/cluster_pb.js';
import type { ClusterLoadAssignment } from '#xds/envoy/config/endpoint/v3/endpoint_pb.js';
import type { Listener } from '#xds/envoy/config/listener/v3/listener_pb.js';
import type { VirtualHost } from '#xds/envoy/config/route/v3/route_components_pb.js';
import type { RouteConfiguration } from '#xds/envoy/config/route/v3/route_pb.js';
import type { ScopedRouteConfiguration } from '#xds/envoy/config/route/v3/scoped_route_pb.js';
import type { ClusterConfig } from '#xds/envoy/extensions/clusters/aggregate/v3/cluster_pb.js';
import type { HTTPFault } from '#xds/envoy/extensions/filters/http/fault/v3/fault_pb.js';
import type { RBAC, RBACPerRoute } from '#xds/envoy/extensions/filters/http/rbac/v3/rbac_pb.js';
import type { Router } from '#xds/envoy/extensions/filters/http/router/v3/router_pb.js';
import type { HttpConnectionManager } from '#xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager_pb.js';
import type { RawBuffer } from '#xds/envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer_pb.js';
import type { Secret } from '#xds/envoy/extensions/transport_sockets/tls/v3/secret_pb.js';
import type {
  DownstreamTlsContext,
  UpstreamTlsContext,
} from '#xds/envoy/extensions/transport_sockets/tls/v3/tls_pb.js';
import type { HttpProtocolOptions } from '#xds/envoy/extensions/upstreams/http/v3/http_protocol_options_pb.js';
import type {
  DeltaDiscoveryRequest,
  DeltaDiscoveryResponse,
  DiscoveryRequest,
  DiscoveryResponse,
} from '#xds/envoy/service/discovery/v3/discovery_pb.js';
import { XdsDecodeError } from '../errors.ts';
import { xdsRegistry } from './registry.ts';
import { typeNameOf, typeUrlOf, XdsTypeUrl } from './type-urls.ts';

/** Message type decoded for each well-known xDS type URL; other type URLs decode to `Message`. */
export interface XdsMessageTypes {
  [XdsTypeUrl.LISTENER]: Listener;
  [XdsTypeUrl.ROUTE_CONFIGURATION]: RouteConfiguration;
  [XdsTypeUrl.SCOPED_ROUTE_CONFIGURATION]: ScopedRouteConfiguration;
  [XdsTypeUrl.VIRTUAL_HOST]: VirtualHost;
  [XdsTypeUrl.CLUSTER]: Cluster;
  [XdsTypeUrl.CLUSTER_LOAD_ASSIGNMENT]: ClusterLoadAssignment;
  [XdsTypeUrl.SECRET]: Secret;
  [XdsTypeUrl.DISCOVERY_REQUEST]: DiscoveryRequest;
  [XdsTypeUrl.DISCOVERY_RESPONSE]: DiscoveryResponse;
  [XdsTypeUrl.DELTA_DISCOVERY_REQUEST]: DeltaDiscoveryRequest;
  [XdsTypeUrl.DELTA_DISCOVERY_RESPONSE]: DeltaDiscoveryResponse;
  [XdsTypeUrl.BOOTSTRAP]: Bootstrap;
  [XdsTypeUrl.HTTP_CONNECTION_MANAGER]: HttpConnectionManager;
  [XdsTypeUrl.ROUTER]: Router;
  [XdsTypeUrl.HTTP_FAULT]: HTTPFault;
  [XdsTypeUrl.RBAC]: RBAC;
  [XdsTypeUrl.RBAC_PER_ROUTE]: RBACPerRoute;
  [XdsTypeUrl.UPSTREAM_TLS_CONTEXT]: UpstreamTlsContext;
  [XdsTypeUrl.RAW_BUFFER]: RawBuffer;
  [XdsTypeUrl.DOWNSTREAM_TLS_CONTEXT]: DownstreamTlsContext;
  [XdsTypeUrl.AGGREGATE_CLUSTER_CONFIG]: ClusterConfig;
  [XdsTypeUrl.HTTP_PROTOCOL_OPTIONS]: HttpProtocolOptions;
}

/** The message type a type URL decodes to. */
export type XdsMessageOf<TypeUrl extends string> = TypeUrl extends keyof XdsMessageTypes
  ? XdsMessageTypes[TypeUrl]
  : Message;

/** Options of {@link resourceFromJson}. */
export interface ResourceFromJsonOptions {
  /**
   * Skip fields the generated schema does not know instead of failing. Default `false`: an
   * unknown field in hand-written configuration is usually a typo.
   */
  readonly ignoreUnknownFields?: boolean | undefined;
}

/** Options of {@link resourceToJson}. */
export interface ResourceToJsonOptions {
  /** Use the .proto field names (`connect_timeout`) instead of lowerCamelCase. Default `false`. */
  readonly useProtoFieldName?: boolean | undefined;
  /** Also write fields that hold their default value. Default `false`. */
  readonly alwaysEmitImplicit?: boolean | undefined;
}

function schemaFor(typeUrl: string): DescMessage {
  const schema = xdsRegistry.getMessage(typeNameOf(typeUrl));
  if (!schema) throw new XdsDecodeError(`unknown xDS type URL "${typeUrl}"`, { typeUrl });
  return schema;
}

function schemaOf(message: Message): DescMessage {
  return schemaFor(typeUrlOf(message.$typeName));
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Unpacks an `Any` into the message its type URL names, looked up in the xDS registry. With
 * `schema`, also checks that the `Any` holds that message type.
 *
 * @throws XdsDecodeError if the type URL is unknown or not `schema`, or the bytes do not decode.
 */
export function decodeAny(any: Any): Message;
export function decodeAny<Desc extends DescMessage>(any: Any, schema: Desc): MessageShape<Desc>;
export function decodeAny(any: Any, schema?: DescMessage): Message {
  const typeUrl = any.typeUrl;
  const expected = schema ?? schemaFor(typeUrl);
  if (typeNameOf(typeUrl) !== expected.typeName) {
    throw new XdsDecodeError(`expected an Any holding ${expected.typeName}, got "${typeUrl}"`, { typeUrl });
  }
  try {
    const message = anyUnpack(any, expected);
    if (message === undefined) throw new Error('type URL mismatch');
    return message;
  } catch (err) {
    throw new XdsDecodeError(`cannot decode Any "${typeUrl}": ${describe(err)}`, { typeUrl, cause: err });
  }
}

/**
 * Packs a generated message into an `Any` with the `type.googleapis.com/` type URL.
 *
 * @throws XdsDecodeError if the message type is not in the xDS registry.
 */
export function encodeAny(message: Message): Any {
  const schema = schemaOf(message);
  try {
    return anyPack(schema, message);
  } catch (err) {
    throw new XdsDecodeError(`cannot encode ${schema.typeName} into an Any: ${describe(err)}`, {
      typeUrl: typeUrlOf(schema.typeName),
      cause: err,
    });
  }
}

/**
 * Parses a resource from proto3 JSON. Field names may be snake_case or lowerCamelCase; an `Any`
 * anywhere inside is resolved through its `@type`. A top-level `@type`, as in Envoy config dumps,
 * is accepted when it names the same type.
 *
 * @throws XdsDecodeError if the type URL is unknown or the JSON does not match the schema.
 */
export function resourceFromJson<TypeUrl extends string>(
  typeUrl: TypeUrl,
  json: JsonValue,
  options: ResourceFromJsonOptions = {},
): XdsMessageOf<TypeUrl> {
  const schema = schemaFor(typeUrl);
  let input = json;
  if (typeof json === 'object' && json !== null && !Array.isArray(json) && '@type' in json) {
    const { '@type': embedded, ...rest } = json;
    if (typeof embedded !== 'string' || typeNameOf(embedded) !== schema.typeName) {
      throw new XdsDecodeError(`"@type" ${JSON.stringify(embedded)} does not match "${typeUrl}"`, {
        typeUrl,
      });
    }
    input = rest;
  }
  try {
    return fromJson(schema, input, {
      registry: xdsRegistry,
      ignoreUnknownFields: options.ignoreUnknownFields ?? false,
    }) as XdsMessageOf<TypeUrl>;
  } catch (err) {
    throw new XdsDecodeError(`cannot decode ${schema.typeName} from JSON: ${describe(err)}`, {
      typeUrl,
      cause: err,
    });
  }
}

/**
 * Writes a resource as proto3 JSON, with every `Any` expanded and tagged with `@type`.
 *
 * @throws XdsDecodeError if the message, or an `Any` inside it, has a type outside the registry.
 */
export function resourceToJson(message: Message, options: ResourceToJsonOptions = {}): JsonValue {
  const schema = schemaOf(message);
  try {
    return toJson(schema, message, {
      registry: xdsRegistry,
      useProtoFieldName: options.useProtoFieldName ?? false,
      alwaysEmitImplicit: options.alwaysEmitImplicit ?? false,
    });
  } catch (err) {
    throw new XdsDecodeError(`cannot encode ${schema.typeName} to JSON: ${describe(err)}`, {
      typeUrl: typeUrlOf(schema.typeName),
      cause: err,
    });
  }
}

/**
 * Decodes a resource from the protobuf binary format. Unknown fields (from a newer Envoy API) are
 * kept, so re-encoding does not lose them.
 *
 * @throws XdsDecodeError if the type URL is unknown or the bytes are not a valid message.
 */
export function resourceFromBinary<TypeUrl extends string>(
  typeUrl: TypeUrl,
  bytes: Uint8Array,
): XdsMessageOf<TypeUrl> {
  const schema = schemaFor(typeUrl);
  try {
    return fromBinary(schema, bytes) as XdsMessageOf<TypeUrl>;
  } catch (err) {
    throw new XdsDecodeError(`cannot decode ${schema.typeName} from binary: ${describe(err)}`, {
      typeUrl,
      cause: err,
    });
  }
}

/**
 * Encodes a resource in the protobuf binary format.
 *
 * @throws XdsDecodeError if the message type is not in the registry or a field cannot be encoded.
 */
export function resourceToBinary(message: Message): Uint8Array {
  const schema = schemaOf(message);
  try {
    return toBinary(schema, message);
  } catch (err) {
    throw new XdsDecodeError(`cannot encode ${schema.typeName} to binary: ${describe(err)}`, {
      typeUrl: typeUrlOf(schema.typeName),
      cause: err,
    });
  }
}
