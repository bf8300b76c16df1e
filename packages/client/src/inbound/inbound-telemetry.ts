import type { Workload } from '@dabba/discovery';
import { grpcStatusOf, httpToGrpcStatus, isGrpcContentType } from '../telemetry/grpc-response-status.ts';
import { NO_RESPONSE_FLAGS } from '../telemetry/istio-metric-names.ts';
import type { IstioDestinationLabels, IstioSourceLabels } from '../telemetry/istio-peer-labels.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import type { LocalPeerMetadata } from '../telemetry/peer-metadata/encode-peer-metadata.ts';
import { PeerLabelCache } from '../telemetry/peer-metadata/peer-label-cache.ts';
import {
  PEER_METADATA_HEADER,
  PEER_METADATA_ID_HEADER,
} from '../telemetry/peer-metadata/peer-metadata-headers.ts';
import type { ResponseLabelSets } from '../telemetry/response-label-sets.ts';
import { inboundDestinationLabels } from './inbound-destination-labels.ts';
import type { ResolvedInboundOptions } from './inbound-options.ts';
import type { InboundService } from './inbound-service.ts';
import type { InboundNext, InboundRequest, InboundResponse } from './inbound-step.ts';

/** `connection_security_policy` on the destination side: `mutual_tls` needs mTLS, not there yet. */
const SECURITY_POLICY = 'none';

/**
 * The inbound half of a sidecar's telemetry: Istio's metadata exchange (read the caller's
 * `x-envoy-peer-metadata`, remove it, answer with this workload's) and the standard request
 * metrics with `reporter="destination"`.
 *
 * Per request: two header reads, one cached lookup of the caller's labels, one `close` listener;
 * the counts go into an interned label set when the response closes, as on the outbound side.
 */
export class InboundTelemetry {
  readonly #metrics: IstioRequestMetrics;
  readonly #workload: Workload;
  readonly #options: ResolvedInboundOptions;
  readonly #local: LocalPeerMetadata;
  #destination: IstioDestinationLabels | undefined;
  /** Per calling workload: its `request_protocol="http"` sets (`.grpc` for gRPC requests). */
  #peers!: PeerLabelCache<ResponseLabelSets>;

  /**
   * @param metrics - the mesh's recorder for `reporter="destination"`.
   * @param local - this workload's exchange headers, encoded once per mesh.
   */
  constructor(
    metrics: IstioRequestMetrics,
    workload: Workload,
    local: LocalPeerMetadata,
    options: ResolvedInboundOptions,
    service: InboundService | undefined,
  ) {
    this.#metrics = metrics;
    this.#workload = workload;
    this.#local = local;
    this.#options = options;
    this.refresh(service);
  }

  /** The labels requests are recorded with, for this workload's side. */
  get destination(): IstioDestinationLabels {
    return this.#destination!;
  }

  /** How many calling workloads have labels of their own (at most `maxPeers`). */
  get peerCount(): number {
    return this.#peers.peerCount;
  }

  /**
   * Takes the inbound service resolved from a new snapshot; label sets are rebuilt only when the
   * destination labels changed (series already recorded stay, as they are interned by value).
   */
  refresh(service: InboundService | undefined): void {
    const destination = inboundDestinationLabels(this.#workload, service);
    const previous = this.#destination;
    if (previous !== undefined && sameLabels(previous, destination)) return;
    this.#destination = destination;
    const metrics = this.#metrics;
    this.#peers = new PeerLabelCache(this.#options.maxPeers, (source: IstioSourceLabels) =>
      metrics.forPeer({
        ...source,
        ...destination,
        request_protocol: 'http',
        connection_security_policy: SECURITY_POLICY,
      }),
    );
  }

  /** The inbound step: exchange metadata, then run the rest and record when the response closes. */
  readonly step = (req: InboundRequest, res: InboundResponse, next: InboundNext): void => {
    const startedAt = performance.now();
    const headers = req.headers;
    const mx = headers[PEER_METADATA_HEADER];
    const mxId = headers[PEER_METADATA_ID_HEADER];
    let peer = this.#peers.unknown;
    // As the peer_metadata filter: read and remove the caller's headers; answer with ours only
    // when the caller sent its own (MXPropagationMethod::inject on the downstream side).
    if (mx !== undefined) {
      peer = this.#peers.get(typeof mx === 'string' ? mx : undefined);
      delete headers[PEER_METADATA_HEADER];
      res.setHeader(PEER_METADATA_HEADER, this.#local.value);
    }
    if (mxId !== undefined) {
      delete headers[PEER_METADATA_ID_HEADER];
      res.setHeader(PEER_METADATA_ID_HEADER, this.#local.id);
    }
    const contentType = headers['content-type'];
    const grpc = typeof contentType === 'string' && isGrpcContentType(contentType);
    const sets = grpc ? peer.grpc : peer;
    const requestBytes = headerBytes(req.rawHeaders) + contentLength(headers['content-length']);
    const socket = req.httpVersionMajor === 2 ? undefined : req.socket;
    const writtenAtStart = socket?.bytesWritten ?? 0;
    const trailers = grpc ? captureGrpcTrailer(res) : undefined;
    const metrics = this.#metrics;
    res.once('close', () => {
      try {
        const finished = res.writableFinished;
        const status = res.headersSent ? res.statusCode : 0;
        // Envoy's DC: the downstream connection ended before the response was complete.
        const flags = finished ? NO_RESPONSE_FLAGS : 'DC';
        // Envoy's getGrpcStatus(trailers, headers, info): trailer, header, then the HTTP status.
        const grpcStatus = grpc
          ? (trailers?.status ??
            grpcStatusOf({ 'grpc-status': res.getHeader('grpc-status') }) ??
            (status === 0 ? '' : httpToGrpcStatus(status)))
          : '';
        const responseBytes =
          socket !== undefined
            ? socket.bytesWritten - writtenAtStart
            : contentLength(res.getHeader('content-length'));
        metrics.record(
          sets.get(status, flags, grpcStatus),
          performance.now() - startedAt,
          requestBytes,
          responseBytes,
        );
      } catch {
        // Telemetry never fails a request, nor the process from a 'close' listener.
      }
    });
    next(req, res);
  };
}

function sameLabels(a: IstioDestinationLabels, b: IstioDestinationLabels): boolean {
  for (const k of Object.keys(a) as (keyof IstioDestinationLabels)[]) if (a[k] !== b[k]) return false;
  return true;
}

/** Header bytes as Envoy's `HeaderMap::byteSize()` counts them: names plus values. */
function headerBytes(raw: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i++) n += raw[i]!.length;
  return n;
}

function contentLength(value: unknown): number {
  const v = Array.isArray(value) ? value[0] : value;
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/**
 * Node keeps trailers only as formatted text, so the `grpc-status` trailer of a gRPC response is
 * caught as the application adds it. Only gRPC requests pay for this.
 */
function captureGrpcTrailer(res: InboundResponse): { status: string | undefined } {
  const seen: { status: string | undefined } = { status: undefined };
  const add = res.addTrailers;
  res.addTrailers = function (this: InboundResponse, trailers: Parameters<typeof add>[0]) {
    seen.status = grpcStatusOf(trailers as never) ?? seen.status;
    return add.call(this, trailers as never);
  } as typeof add;
  return seen;
}
