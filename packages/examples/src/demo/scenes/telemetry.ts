/**
 * Scene 12: telemetry across two Dabba hops. A `frontend` service runs in this process behind
 * `mesh.inbound()` (its own mesh, workload `app: frontend`) and calls ratings through its mesh;
 * the demo client calls frontend through another mesh. Both meshes have the `metrics` and
 * `tracing` options on, and an OpenTelemetry SDK with an in-memory exporter records the spans.
 * The scene reads each mesh's `/metrics` endpoint (Istio's standard metrics, reporter source and
 * destination, the peer's labels learned from Istio's metadata-exchange headers) and prints the
 * trace tree of one request: the client's CLIENT span, frontend's SERVER span, and frontend's
 * CLIENT span to ratings, one trace id.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type Mesh, serveMetrics } from '@dabba/client';
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { request } from 'undici';
import { CLIENT_LOCALITY } from '../topology.ts';
import type { SceneContext, SceneResult } from './scene.ts';

const FRONTEND_PORT = 8080;
const FRONTEND_URL = `http://frontend:${FRONTEND_PORT}/product/7`;
const RATINGS_URL = 'http://ratings:9080/ratings/7';
const REQUESTS = 40;
const SPAN_KINDS = ['INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];

/** The frontend's ServiceEntry and WorkloadEntry, with the port its server got. */
function frontendYaml(port: number): string {
  return `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: { name: frontend, namespace: default }
spec:
  hosts: [frontend.default.svc.cluster.local]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{ number: ${FRONTEND_PORT}, name: http, protocol: HTTP }]
  workloadSelector: { labels: { app: frontend } }
---
apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: { name: frontend-1, namespace: default }
spec:
  address: 127.0.0.1
  ports: { http: ${port} }
  labels: { app: frontend, version: v1 }
`;
}

/** `istio_requests_total` samples of a Prometheus text page, with their labels. */
function requestTotals(text: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const m of text.matchAll(/^istio_requests_total\{(.*)\} (\S+)$/gm)) {
    const labels: Record<string, string> = {};
    for (const l of m[1]!.matchAll(/(\w+)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ labels, value: Number(m[2]) });
  }
  return out;
}

async function scrape(server: Server): Promise<string> {
  const { port } = server.address() as AddressInfo;
  const res = await request(`http://127.0.0.1:${port}/metrics`);
  return res.body.text();
}

const micros = (span: ReadableSpan) => span.duration[0] * 1e6 + span.duration[1] / 1e3;

/** The spans of one trace as an indented tree, parents first. */
function traceTree(spans: readonly ReadableSpan[]): string[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId));
  const children = new Map<string | undefined, ReadableSpan[]>();
  for (const s of spans) {
    const parent = s.parentSpanContext?.spanId;
    const key = parent !== undefined && ids.has(parent) ? parent : undefined;
    children.set(key, [...(children.get(key) ?? []), s]);
  }
  const lines: string[] = [];
  const walk = (parent: string | undefined, depth: number) => {
    const level = (children.get(parent) ?? []).sort((a, b) => micros(b) - micros(a));
    for (const s of level) {
      const a = s.attributes;
      const status = a['http.response.status_code'] ?? '-';
      const where = a.upstream_cluster ?? a['server.address'] ?? '';
      lines.push(
        `${'  '.repeat(depth)}${SPAN_KINDS[s.kind]} ${s.name}  ${status}  ${(micros(s) / 1000).toFixed(1)} ms  ${where}`,
      );
      walk(s.spanContext().spanId, depth + 1);
    }
  };
  walk(undefined, 0);
  return lines;
}

export async function telemetryScene(ctx: SceneContext): Promise<SceneResult> {
  const { display } = ctx;
  display.line(
    display.bold('12. Telemetry: Istio metrics and one trace across two Dabba hops') +
      display.dim('  (metrics + tracing options, mesh.inbound)'),
  );
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  // Registered globally for its context manager: frontend's outbound call runs inside its SERVER span.
  provider.register();
  const telemetry = { metrics: {}, tracing: { samplingPercent: 100, tracerProvider: provider } };
  const servers: Server[] = [];
  try {
    const frontendMesh: Mesh = await ctx.createClient(CLIENT_LOCALITY, {
      labels: { app: 'frontend', version: 'v1' },
      ...telemetry,
    });
    // The listener is attached once the port is known: `port` names the service this workload
    // serves on it (destination_service, the SERVER span's name), as a sidecar's inbound cluster does.
    const frontend = createServer();
    servers.push(frontend);
    frontend.listen(0, '127.0.0.1');
    await once(frontend, 'listening');
    const port = (frontend.address() as AddressInfo).port;
    frontend.on(
      'request',
      frontendMesh.inbound(
        async (_req, res) => {
          try {
            const upstream = await request(RATINGS_URL, { dispatcher: frontendMesh });
            const body = await upstream.body.text();
            res.writeHead(upstream.statusCode, { 'content-type': 'application/json' }).end(body);
          } catch (err) {
            res.writeHead(502).end(String(err));
          }
        },
        { port },
      ),
    );
    const snapshot = once(ctx.mesh, 'snapshot', { signal: ctx.signal });
    ctx.folder.write('frontend.yaml', frontendYaml(port));
    await snapshot;
    const client: Mesh = await ctx.createClient(CLIENT_LOCALITY, {
      labels: { app: 'demo-client', version: 'v1' },
      ...telemetry,
    });
    const clientMetrics = await serveMetrics(client, { port: 0 });
    const frontendMetrics = await serveMetrics(frontendMesh, { port: 0 });
    servers.push(clientMetrics, frontendMetrics);

    let ok200 = 0;
    for (let i = 0; i < REQUESTS; i++) {
      const res = await request(FRONTEND_URL, { dispatcher: client, signal: ctx.signal });
      await res.body.dump();
      if (res.statusCode === 200) ok200++;
      ctx.display.progress(`  client -> frontend -> ratings  ${i + 1}/${REQUESTS}`);
    }
    ctx.display.clearProgress();
    await provider.forceFlush();

    const clientPort = (clientMetrics.address() as AddressInfo).port;
    const frontendPort = (frontendMetrics.address() as AddressInfo).port;
    const clientSeries = requestTotals(await scrape(clientMetrics));
    const frontendSeries = requestTotals(await scrape(frontendMetrics));
    display.line(
      `   ${REQUESTS} requests client -> frontend -> ratings; metrics at http://127.0.0.1:${clientPort}/metrics (client) and :${frontendPort}/metrics (frontend):`,
    );
    const show = (who: string, s: { labels: Record<string, string>; value: number }) =>
      display.line(
        `     ${who.padEnd(8)} istio_requests_total{reporter="${s.labels.reporter}",source_app="${s.labels.source_app}",destination_app="${s.labels.destination_app}",destination_version="${s.labels.destination_version}",destination_service="${s.labels.destination_service}",response_code="${s.labels.response_code}"} ${s.value}`,
      );
    for (const s of clientSeries) show('client', s);
    for (const s of frontendSeries) show('frontend', s);

    const sum = (series: typeof clientSeries, f: (l: Record<string, string>) => boolean) =>
      series.filter((s) => f(s.labels)).reduce((n, s) => n + s.value, 0);
    const sourceSeen = sum(
      clientSeries,
      (l) => l.reporter === 'source' && l.destination_app === 'frontend' && l.response_code === '200',
    );
    const destinationSeen = sum(
      frontendSeries,
      (l) => l.reporter === 'destination' && l.source_app === 'demo-client' && l.response_code === '200',
    );
    const ratingsSeen = sum(
      frontendSeries,
      (l) => l.reporter === 'source' && l.destination_app === 'ratings' && l.response_code === '200',
    );

    const spans = exporter.getFinishedSpans();
    const roots = spans.filter((s) => s.parentSpanContext === undefined);
    const last = roots.at(-1);
    const trace =
      last === undefined ? [] : spans.filter((s) => s.spanContext().traceId === last.spanContext().traceId);
    display.line(`   the trace of the last request (trace id ${last?.spanContext().traceId ?? 'none'}):`);
    for (const line of traceTree(trace)) display.line(`     ${line}`);
    const kinds = trace.map((s) => SPAN_KINDS[s.kind]).join(',');
    const linked = trace.every(
      (s) => s === last || trace.some((p) => p.spanContext().spanId === s.parentSpanContext?.spanId),
    );
    const ok =
      ok200 === REQUESTS &&
      sourceSeen === REQUESTS &&
      destinationSeen === REQUESTS &&
      ratingsSeen === REQUESTS &&
      trace.length === 3 &&
      linked &&
      roots.length === REQUESTS;
    display.line(
      `   ${ok ? display.good('each hop counted every request under the right workloads; one trace id, parent -> child across both hops') : display.bad('off')}`,
    );
    return {
      name: 'telemetry',
      configured: 'metrics + tracing 100%, frontend behind mesh.inbound()',
      measured: `source ${sourceSeen}, destination ${destinationSeen}, frontend->ratings ${ratingsSeen} of ${REQUESTS}; trace ${trace.length} spans`,
      ok,
      fields: {
        requests: REQUESTS,
        'source-reported': sourceSeen,
        'destination-reported': destinationSeen,
        'frontend-to-ratings': ratingsSeen,
        traces: roots.length,
        'trace-spans': trace.length,
        'trace-kinds': kinds,
        'trace-linked': linked ? 'yes' : 'no',
      },
    };
  } finally {
    for (const s of servers) s.close();
    await provider.shutdown();
  }
}
