import type { Workload } from '@dabba/discovery';
import type { CompiledCluster } from '../compile/compile-cluster.ts';
import type { IstioRequestMetrics } from '../telemetry/istio-request-metrics.ts';
import type { LocalPeerMetadata } from '../telemetry/peer-metadata/encode-peer-metadata.ts';
import type { ResolvedInboundOptions } from './inbound-options.ts';
import { type InboundService, resolveInboundService } from './inbound-service.ts';
import { InboundSpans, type InboundTracingConfig } from './inbound-span.ts';
import type { InboundStep } from './inbound-step.ts';
import { InboundTelemetry } from './inbound-telemetry.ts';

/** What `mesh.inbound()` hands over: the mesh's state the inbound steps read. */
export interface InboundChainInput {
  readonly workload: Workload;
  readonly options: ResolvedInboundOptions;
  /** The serving configuration's clusters (empty before the first snapshot). */
  readonly clusters: () => Iterable<CompiledCluster>;
  /** Subscribes to configuration changes (the mesh's `snapshot` event). */
  readonly onSnapshot: (listener: () => void) => void;
  /** `reporter="destination"` metrics; `undefined` when the `metrics` option is off. */
  readonly metrics: IstioRequestMetrics | undefined;
  /** This workload's exchange headers; set whenever `metrics` is. */
  readonly peerMetadata: LocalPeerMetadata | undefined;
  /** The `tracing` option; `undefined` when off. */
  readonly tracing: InboundTracingConfig | undefined;
}

/**
 * The inbound steps in a sidecar's filter order: the SERVER span first (so everything after it,
 * and the application, runs in its context), then metadata exchange and metrics. Peer
 * authentication and authorization will slot in after them, as Envoy's RBAC filter follows
 * istio_authn and the stats filter. Nothing enabled: no steps.
 */
export function inboundSteps(input: InboundChainInput): InboundStep[] {
  const { workload, options } = input;
  const port = options.port;
  const resolve = (): InboundService | undefined =>
    port === undefined ? undefined : resolveInboundService(input.clusters(), workload, port);
  let service = resolve();
  const steps: InboundStep[] = [];
  let telemetry: InboundTelemetry | undefined;
  if (input.tracing !== undefined) {
    const spans = new InboundSpans(input.tracing, () =>
      service === undefined ? undefined : `${service.host}:${service.port}/*`,
    );
    steps.push(spans.step);
  }
  if (input.metrics !== undefined && input.peerMetadata !== undefined) {
    telemetry = new InboundTelemetry(input.metrics, workload, input.peerMetadata, options, service);
    steps.push(telemetry.step);
  }
  if (steps.length > 0 && port !== undefined) {
    // The inbound service comes from configuration: re-resolved on every snapshot.
    input.onSnapshot(() => {
      service = resolve();
      telemetry?.refresh(service);
    });
  }
  return steps;
}
