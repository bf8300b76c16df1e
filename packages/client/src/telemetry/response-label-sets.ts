import type { ClusterTraffic } from './cluster-traffic.ts';
import type { IstioLabelSet, IstioPeerLabels, IstioRequestLabels } from './istio-label-set.ts';
import { NO_RESPONSE_FLAGS } from './istio-metric-names.ts';

/** Envoy writes 3-digit codes and 0; a direct array index covers them all. */
const MAX_STATUS = 999;

/**
 * The label sets of one peer (a cluster, or a route's cluster, resolved at compile time), by
 * response. The request path asks for the set of the response it got and records into it; the
 * common case (no response flags, no gRPC status) is one array read, and each combination is
 * interned once, on first use, through the recorder.
 */
export class ResponseLabelSets {
  readonly peer: IstioPeerLabels;
  readonly #intern: (labels: IstioRequestLabels) => IstioLabelSet;
  /** Sets with `response_flags="-"` and `grpc_response_status=""`, indexed by status code. */
  readonly #plain: (IstioLabelSet | undefined)[] = [];
  readonly #other = new Map<string, IstioLabelSet>();
  #grpc: ResponseLabelSets | undefined;
  /**
   * The cluster's Envoy request counters (telemetry/cluster-stats.ts), set by the mesh when the
   * cluster is applied; `undefined` for requests that reach no cluster.
   */
  traffic: ClusterTraffic | undefined;

  constructor(peer: IstioPeerLabels, intern: (labels: IstioRequestLabels) => IstioLabelSet) {
    this.peer = peer;
    this.#intern = intern;
  }

  /**
   * The label set for a response.
   *
   * @param statusCode - the HTTP status, or 0 when there was no response (Envoy's
   *   `responseCode().value_or(0)`); an integer 0 or 100-999, else this throws `DABBA_CONFIG_INVALID`.
   * @param responseFlags - `-` or Envoy short flags joined by `,` in Envoy's order.
   * @param grpcStatus - the gRPC status as a decimal string, or `''` for plain HTTP.
   */
  get(statusCode: number, responseFlags: string = NO_RESPONSE_FLAGS, grpcStatus = ''): IstioLabelSet {
    if (responseFlags === NO_RESPONSE_FLAGS && grpcStatus === '') {
      const hit = this.#plain[statusCode];
      if (hit !== undefined) return hit;
      const set = this.#resolve(statusCode, responseFlags, grpcStatus);
      if (Number.isInteger(statusCode) && statusCode >= 0 && statusCode <= MAX_STATUS) {
        this.#plain[statusCode] = set;
      }
      return set;
    }
    const key = `${statusCode}|${responseFlags}|${grpcStatus}`;
    let set = this.#other.get(key);
    if (set === undefined) {
      set = this.#resolve(statusCode, responseFlags, grpcStatus);
      this.#other.set(key, set);
    }
    return set;
  }

  /**
   * The same peer's sets with `request_protocol="grpc"`, for requests with a gRPC content-type
   * (istio_stats.cc: `Grpc::Common::isGrpcRequestHeaders`); made on the first gRPC request.
   * They share this table's {@link traffic}.
   */
  get grpc(): ResponseLabelSets {
    if (this.#grpc === undefined) {
      this.#grpc = new ResponseLabelSets(
        Object.freeze({ ...this.peer, request_protocol: 'grpc' }),
        this.#intern,
      );
      this.#grpc.traffic = this.traffic;
      this.#grpc.#grpc = this.#grpc;
    }
    return this.#grpc;
  }

  #resolve(statusCode: number, responseFlags: string, grpcStatus: string): IstioLabelSet {
    return this.#intern({
      ...this.peer,
      response_code: String(statusCode),
      response_flags: responseFlags,
      grpc_response_status: grpcStatus,
    });
  }
}
