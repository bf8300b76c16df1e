/**
 * An OpenTelemetry SDK as a production service would run it, minus the network: a
 * BasicTracerProvider with a BatchSpanProcessor (default queue and batch sizes) in front of an
 * exporter that drops the spans and counts them. Given to the mesh as `tracing.tracerProvider`,
 * so two benchmark modes can sample differently in one process.
 */
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';

export interface BenchTracing {
  readonly provider: BasicTracerProvider;
  /** Spans exported since the last reset. */
  ended(): number;
  reset(): void;
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

class CountingExporter implements SpanExporter {
  count = 0;
  // ExportResultCode.SUCCESS is 0.
  export(spans: ReadableSpan[], done: (result: { code: number }) => void): void {
    this.count += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

export function createBenchTracing(): BenchTracing {
  const exporter = new CountingExporter();
  const processor = new BatchSpanProcessor(exporter);
  const provider = new BasicTracerProvider({ spanProcessors: [processor] });
  return {
    provider,
    ended: () => exporter.count,
    reset: () => {
      exporter.count = 0;
    },
    flush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
