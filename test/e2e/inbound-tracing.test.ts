/**
 * End to end: the SERVER span of `mesh.inbound()` on real sockets, with a tracer provider passed in
 * the `tracing` option (nothing registered globally): sampling as Envoy decides it (B3 debug, the
 * caller's decision, else the x-request-id reason or the percentage), OTel HTTP server attributes, errors for 5xx and for a
 * caller that disconnects (Envoy's DC), the `otel` span name; and no span at all without a
 * provider.
 */
import assert from 'node:assert/strict';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { createMeshFolder, type MeshFolder, serviceYaml, waitFor } from '../support/mesh-folder.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function call(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('inbound SERVER span', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let folder: MeshFolder;
  const meshes: Mesh[] = [];
  const servers: Server[] = [];

  const app = (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/fail') {
      res.statusCode = 503;
      res.end('down');
    } else if (req.url === '/hang') {
      res.writeHead(200);
      res.write('partial');
    } else {
      res.end('ok');
    }
  };

  async function serve(tracing: Parameters<typeof createMesh>[0]['tracing']): Promise<number> {
    const mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'details', version: 'v1' } },
      ...(tracing === undefined ? {} : { tracing }),
    });
    meshes.push(mesh);
    const server = createServer(mesh.inbound(app));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  async function finished(n: number): Promise<ReadableSpan[]> {
    await waitFor(() => exporter.getFinishedSpans().length >= n, 5000, `${n} spans`);
    const spans = exporter.getFinishedSpans();
    exporter.reset();
    return spans;
  }

  before(async () => {
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      serviceYaml('details', 9080, [{ name: 'details-1', port: 1, labels: {} }]),
    );
  });

  after(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    }
    for (const m of meshes) await m.close();
    await folder?.remove();
    await provider.shutdown();
  });

  test('sampling 100%, no caller context: a root SERVER span with HTTP server attributes', async () => {
    const port = await serve({ tracerProvider: provider, samplingPercent: 100, spanName: 'otel' });
    exporter.reset();
    assert.equal(
      await call(port, '/ok?x=1', {
        'user-agent': 'probe/1',
        'x-request-id': 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
      }),
      200,
    );
    const [span] = await finished(1);
    assert.equal(span!.kind, SpanKind.SERVER);
    assert.equal(span!.name, 'GET', "spanName 'otel': the method");
    assert.equal(span!.parentSpanContext, undefined);
    assert.equal(span!.attributes['url.path'], '/ok');
    assert.equal(span!.attributes['url.query'], 'x=1');
    assert.equal(span!.attributes['user_agent.original'], 'probe/1');
    // Sampled by rate: the id carries Envoy's traced mark (UUID extension, character 14 = 9).
    assert.equal(span!.attributes['guid:x-request-id'], 'f47ac10b-58cc-9372-a567-0e02b2c3d479');
    assert.equal(span!.attributes['http.response.status_code'], 200);
    assert.equal(span!.attributes.response_flags, '-');
    assert.equal(span!.attributes['istio.canonical_service'], 'details');
    assert.equal(span!.status.code, SpanStatusCode.UNSET);
  });

  test('a 5xx is an error; a caller that disconnects is DC', async () => {
    const port = await serve({ tracerProvider: provider, samplingPercent: 100 });
    exporter.reset();
    assert.equal(await call(port, '/fail'), 503);
    const [failed] = await finished(1);
    assert.equal(failed!.status.code, SpanStatusCode.ERROR);
    assert.equal(failed!.attributes['error.type'], '503');
    assert.equal(failed!.name, `127.0.0.1:${port}/*`, 'no port option: <Host>/*');

    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/hang', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => {});
      req.end();
    });
    const [dc] = await finished(1);
    assert.equal(dc!.attributes.response_flags, 'DC');
    assert.equal(dc!.attributes['error.type'], 'downstream_remote_disconnect');
    assert.equal(dc!.status.code, SpanStatusCode.ERROR);
  });

  test('sampling 0%: only the caller, B3 debug or a traced x-request-id samples', async () => {
    const port = await serve({ tracerProvider: provider, samplingPercent: 0 });
    exporter.reset();
    await call(port, '/ok');
    await call(port, '/ok', { traceparent: `00-${TRACE}-00f067aa0ba902b7-00` });
    await call(port, '/ok', { traceparent: `00-${TRACE}-00f067aa0ba902b7-01` });
    await call(port, '/ok', { 'x-b3-traceid': TRACE, 'x-b3-spanid': '00f067aa0ba902b8', 'x-b3-flags': '1' });
    // An x-request-id a proxy before marked traced (Envoy's UUID extension) is sampled at any rate.
    await call(port, '/ok', { 'x-request-id': 'f47ac10b-58cc-9372-a567-0e02b2c3d479' });
    await call(port, '/ok', { 'x-request-id': 'f47ac10b-58cc-4372-a567-0e02b2c3d479' });
    const spans = await finished(3);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(
      spans.length + exporter.getFinishedSpans().length,
      3,
      'the sampled caller, debug, the traced id',
    );
    assert.deepEqual(spans.map((s) => s.parentSpanContext?.spanId ?? 'root').sort(), [
      '00f067aa0ba902b7',
      '00f067aa0ba902b8',
      'root',
    ]);
  });

  test('tracing off: the listener is not wrapped; no provider: no span', async () => {
    const mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      tracing: { samplingPercent: 100 },
    });
    meshes.push(mesh);
    // The global provider is still the API's no-op: the step passes straight through.
    const server = createServer(mesh.inbound(app));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    exporter.reset();
    assert.equal(await call((server.address() as AddressInfo).port, '/ok'), 200);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(exporter.getFinishedSpans().length, 0);
    const off = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
    meshes.push(off);
    assert.equal(off.inbound(app), app);
  });
});
