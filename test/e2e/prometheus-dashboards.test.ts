/**
 * End to end with a real Prometheus: a Prometheus server scrapes a mesh's `serveMetrics`
 * endpoint every second while a known traffic mix goes through the mesh to real upstreams, and
 * the PromQL queries of Istio's Grafana dashboards must read that mix back.
 *
 * The queries are those of istio/istio manifests/addons/dashboards: istio-service-dashboard.json
 * ("Client Request Volume", "Client Success Rate (non-5xx responses)", "Client Request Duration")
 * and lib/queries.libsonnet (the mesh dashboard's per-workload P50/P99 and success rate, with
 * `rate` instead of `irate`). `$qrep` is `source` (Dabba reports as the client side) and
 * `$__rate_interval` is a window chosen below.
 *
 * Prometheus comes from the machine (`prometheus` on PATH; `./run test` installs Debian's package
 * when it can). Without it the test is skipped with the reason printed, except in CI (`CI` set),
 * where a missing Prometheus fails the test.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh, serveMetrics } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { Registry } from 'prom-client';
import { request } from 'undici';
import {
  createMeshFolder,
  type MeshFolder,
  serviceYaml,
  versionSubsetsYaml,
  waitFor,
} from '../support/mesh-folder.ts';
import { slowHandler, startUpstream, type Upstream } from '../support/upstream.ts';

const SCRAPE_INTERVAL_S = 1;
/** Upstream delay of the slow requests: inside Envoy's (250, 500] ms duration bucket. */
const SLOW_MS = 300;
/** The known mix, after one warm-up request per series. */
const OK_V1 = 30;
const FAIL_V2 = 10;
const SLOW = 5;
const REVIEWS = 'reviews.default.svc.cluster.local';
const RATINGS = 'ratings.default.svc.cluster.local';

function prometheusMissing(): string | undefined {
  const probe = spawnSync('prometheus', ['--version'], { stdio: 'ignore' });
  if (probe.error === undefined && probe.status === 0) return undefined;
  return 'prometheus is not on PATH (./run test installs Debian\'s "prometheus" package when run as root with apt-get)';
}

const missing = prometheusMissing();
if (missing !== undefined && process.env.CI === undefined) {
  process.stderr.write(`prometheus-dashboards.test.ts: skipped: ${missing}\n`);
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

interface PromSample {
  readonly metric: Record<string, string>;
  readonly value: [number, string];
}

/** A Prometheus server in a temporary directory, scraping one target on loopback. */
class PrometheusServer {
  readonly #dir: string;
  readonly #child: ChildProcess;
  readonly #log: string[] = [];
  readonly url: string;
  #exited: Promise<void>;

  private constructor(dir: string, child: ChildProcess, port: number) {
    this.#dir = dir;
    this.#child = child;
    this.url = `http://127.0.0.1:${port}`;
    child.stderr?.setEncoding('utf8').on('data', (d: string) => this.#log.push(d));
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(target: string): Promise<PrometheusServer> {
    const dir = await mkdtemp(path.join(tmpdir(), 'dabba-prometheus-'));
    await writeFile(
      path.join(dir, 'prometheus.yml'),
      `global:
  scrape_interval: ${SCRAPE_INTERVAL_S}s
  scrape_timeout: ${SCRAPE_INTERVAL_S}s
  evaluation_interval: ${SCRAPE_INTERVAL_S}s
scrape_configs:
  - job_name: dabba
    static_configs:
      - targets: ['${target}']
`,
    );
    const port = await freePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const server = new PrometheusServer(dir, child, port);
    try {
      await waitFor(
        async () => (await fetch(`${server.url}/-/ready`).catch(() => undefined))?.status === 200,
        15_000,
        'prometheus to be ready',
      );
    } catch (err) {
      await server.stop();
      throw new Error(`${(err as Error).message}\n${server.log}`);
    }
    return server;
  }

  get log(): string {
    return this.#log.join('');
  }

  /** An instant query at `time` (seconds since the epoch), else now. */
  async query(expr: string, time?: number): Promise<PromSample[]> {
    const params = new URLSearchParams({ query: expr });
    if (time !== undefined) params.set('time', time.toFixed(3));
    const res = await fetch(`${this.url}/api/v1/query?${params}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: PromSample[] } };
    assert.equal(body.status, 'success', `${expr}: ${body.error}`);
    return body.data.result;
  }

  /** The single value of an instant query; NaN when it returns nothing. */
  async scalar(expr: string, time?: number): Promise<number> {
    const result = await this.query(expr, time);
    assert.ok(result.length <= 1, `${expr}: ${result.length} series`);
    return result.length === 0 ? Number.NaN : Number(result[0]!.value[1]);
  }

  /** A range query: the values of its single series. */
  async range(expr: string, start: number, end: number, stepS: number): Promise<number[]> {
    const params = new URLSearchParams({
      query: expr,
      start: start.toFixed(3),
      end: end.toFixed(3),
      step: String(stepS),
    });
    const res = await fetch(`${this.url}/api/v1/query_range?${params}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data: { result: { values: [number, string][] }[] };
    };
    assert.equal(body.status, 'success', `${expr}: ${body.error}`);
    return body.data.result.flatMap((r) => r.values.map((v) => Number(v[1])));
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const killer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(killer);
    }
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Resolves after `ms`. */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function get(mesh: Mesh, url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await request(url, { dispatcher: mesh, headers });
  await res.body.text();
  return res.statusCode;
}

describe('Istio dashboards over a real Prometheus', { skip: process.env.CI === undefined && missing }, () => {
  let folder: MeshFolder;
  let v1: Upstream;
  let v2: Upstream;
  let ratings: Upstream;
  let mesh: Mesh;
  let metricsServer: Server;
  let prometheus: PrometheusServer | undefined;

  before(async () => {
    assert.equal(missing, undefined, missing);
    v1 = await startUpstream('reviews-v1', (_req, res) => res.end('ok'));
    v2 = await startUpstream('reviews-v2', (_req, res) => {
      res.statusCode = 503;
      res.end('down');
    });
    ratings = await startUpstream('ratings', slowHandler(SLOW_MS));
    folder = await createMeshFolder();
    await folder.write(
      'svc.yaml',
      `${serviceYaml('reviews', 9080, [
        { name: 'reviews-1', port: v1.port, labels: { version: 'v1' } },
        { name: 'reviews-2', port: v2.port, labels: { version: 'v2' } },
      ])}---
${serviceYaml('ratings', 9080, [{ name: 'ratings-1', port: ratings.port, labels: { version: 'v1' } }])}---
${versionSubsetsYaml('reviews', { v1: 'v1', v2: 'v2' })}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: reviews }
spec:
  hosts: [reviews]
  http:
    - match: [{ headers: { end-user: { exact: jason } } }]
      route: [{ destination: { host: reviews, subset: v2 } }]
    - route: [{ destination: { host: reviews, subset: v1 } }]
`,
    );
    mesh = await createMesh({
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      workload: { namespace: 'default', labels: { app: 'productpage', version: 'v1' } },
      metrics: { registry: new Registry() },
    });
    metricsServer = await serveMetrics(mesh, { port: 0 });
    const { port } = metricsServer.address() as AddressInfo;
    prometheus = await PrometheusServer.start(`127.0.0.1:${port}`);
  });

  after(async () => {
    await prometheus?.stop();
    await new Promise<void>((resolve) => (metricsServer ? metricsServer.close(() => resolve()) : resolve()));
    await mesh?.close();
    await Promise.all([v1?.close(), v2?.close(), ratings?.close()]);
    await folder?.remove();
  });

  test('request volume, success rate and latency quantiles read back the known mix', async () => {
    const prom = prometheus!;
    const total = `sum(istio_requests_total{reporter="source"})`;
    const lastScrape = `max(timestamp(istio_requests_total{reporter="source"}))`;
    /** Waits until Prometheus has scraped `expected` requests; returns that sample's time (s). */
    const scrapedTotal = async (expected: number): Promise<number> => {
      await waitFor(async () => (await prom.scalar(total)) === expected, 15_000, `${expected} requests`);
      return prom.scalar(lastScrape);
    };

    // Warm-up: one request per series, so every series exists (at 1) before the window opens
    // and increase()/rate() over the window see the whole mix.
    assert.equal(await get(mesh, 'http://reviews:9080/r'), 200);
    assert.equal(await get(mesh, 'http://reviews:9080/r', { 'end-user': 'jason' }), 503);
    assert.equal(await get(mesh, 'http://ratings:9080/r'), 200);
    const base = await scrapedTotal(3);

    // The mix: 30 x 200 from v1 paced over ~3 s, a 503 from v2 every third tick, and five
    // concurrent slow requests to ratings at the start.
    const slowDurations: Promise<number>[] = [];
    for (let i = 0; i < SLOW; i++) {
      const t0 = performance.now();
      slowDurations.push(
        get(mesh, 'http://ratings:9080/r').then((status) => {
          assert.equal(status, 200);
          return performance.now() - t0;
        }),
      );
    }
    for (let tick = 0; tick < OK_V1; tick++) {
      assert.equal(await get(mesh, 'http://reviews:9080/r'), 200);
      if (tick % 3 === 0)
        assert.equal(await get(mesh, 'http://reviews:9080/r', { 'end-user': 'jason' }), 503);
      await sleep(100);
    }
    const slow = await Promise.all(slowDurations);
    const end = await scrapedTotal(3 + OK_V1 + FAIL_V2 + SLOW);
    // The window holds the warm-up sample (1 ms after its start) through the last scrape.
    const windowMs = Math.round((end - base) * 1000) + 1;
    const w = `${windowMs}ms`;
    const reviews = `reporter=~"source",destination_service="${REVIEWS}"`;

    // Exact counts: the stored counters, and increase() over the window. increase() extrapolates
    // to the window's start, 1 ms before its first sample: at most (1 ms / window) x count,
    // far below the 0.5 that round() tolerates.
    assert.equal(await prom.scalar(`sum(istio_requests_total{${reviews}})`, end), 2 + OK_V1 + FAIL_V2);
    assert.equal(
      Math.round(await prom.scalar(`sum(increase(istio_requests_total{${reviews}}[${w}]))`, end)),
      OK_V1 + FAIL_V2,
    );
    assert.equal(
      Math.round(
        await prom.scalar(`sum(increase(istio_requests_total{${reviews},response_code="503"}[${w}]))`, end),
      ),
      FAIL_V2,
    );
    assert.equal(
      Math.round(
        await prom.scalar(
          `sum(increase(istio_requests_total{reporter="source",destination_service="${RATINGS}"}[${w}]))`,
          end,
        ),
      ),
      SLOW,
    );

    // Envoy's cluster stats as a sidecar exports them, through the same scrape: one 5xx charged
    // per request to the v2 subset cluster, one attempt per request to v1 (no retries here).
    const v1Cluster = `outbound|9080|v1|${REVIEWS}`;
    const v2Cluster = `outbound|9080|v2|${REVIEWS}`;
    assert.equal(
      Math.round(
        await prom.scalar(
          `sum(increase(envoy_cluster_upstream_rq{cluster_name="${v2Cluster}",response_code_class="5xx"}[${w}]))`,
          end,
        ),
      ),
      FAIL_V2,
    );
    assert.equal(
      Math.round(
        await prom.scalar(
          `sum(increase(envoy_cluster_upstream_rq_total{cluster_name="${v1Cluster}"}[${w}]))`,
          end,
        ),
      ),
      OK_V1,
    );
    assert.equal(await prom.scalar(`envoy_cluster_membership_healthy{cluster_name="${v1Cluster}"}`, end), 1);
    assert.equal(await prom.scalar(`dabba_config_updates_total{result="accepted"}`, end), 1);

    // Client Success Rate (non-5xx responses), istio-service-dashboard.json, over the window:
    // both sums share samples and extrapolation, so the ratio is exact.
    const successRate = await prom.scalar(
      `sum(rate(istio_requests_total{${reviews},response_code!~"5.*"}[${w}])) / (sum(rate(istio_requests_total{${reviews}}[${w}])) or on () vector(1))`,
      end,
    );
    assert.ok(Math.abs(successRate - OK_V1 / (OK_V1 + FAIL_V2)) < 1e-9, `success rate ${successRate}`);

    // Client Request Volume (irate), evaluated every scrape across the traffic. Nominal rate:
    // 40 requests over ~3 s (30 ticks of >= 100 ms) = ~13 req/s. One irate sample spans one
    // 1 s scrape interval, so it holds 0.5x to 2x that when pacing slips on a loaded machine:
    // tolerance [6, 27] for the peak; and the volume must fall to 0 once the traffic stopped.
    const volume = await prom.range(
      `round(sum(irate(istio_requests_total{${reviews}}[5s])), 0.001)`,
      base,
      end,
      SCRAPE_INTERVAL_S,
    );
    const peak = Math.max(...volume);
    assert.ok(peak >= 6 && peak <= 27, `peak volume ${peak} req/s (${volume.join(', ')})`);
    await waitFor(
      async () => (await prom.scalar(`round(sum(irate(istio_requests_total{${reviews}}[5s])), 0.001)`)) === 0,
      5_000,
      'the request volume to drop to 0',
    );

    // Client Request Duration: P50 / P99 by histogram_quantile over the duration buckets (the
    // dashboard divides by 1000 for seconds; compared here in milliseconds).
    const quantile = (q: number, service: string) =>
      prom.scalar(
        `histogram_quantile(${q}, sum(rate(istio_request_duration_milliseconds_bucket{reporter=~"source",destination_service="${service}"}[${w}])) by (le))`,
        end,
      );
    const [ratingsP50, ratingsP99, reviewsP50, reviewsP99] = await Promise.all([
      quantile(0.5, RATINGS),
      quantile(0.99, RATINGS),
      quantile(0.5, REVIEWS),
      quantile(0.99, REVIEWS),
    ]);
    if (slow.every((ms) => ms >= 250 && ms < 500)) {
      // All five in the (250, 500] bucket: Prometheus interpolates linearly inside it.
      assert.equal(ratingsP50, 250 + 250 * 0.5);
      assert.equal(ratingsP99, 250 + 250 * 0.99);
    } else {
      // A stalled machine pushed one out of the bucket: the slow requests still took > 250 ms.
      assert.ok(ratingsP50 > 250, `ratings p50 ${ratingsP50} (client saw ${slow.join(', ')} ms)`);
    }
    // Loopback responses with no delay: well under the slow bucket.
    assert.ok(reviewsP50 < 250 && reviewsP99 < 250, `reviews p50 ${reviewsP50} p99 ${reviewsP99}`);
    assert.ok(reviewsP99 < ratingsP50);

    // The mesh dashboard's per-workload table (lib/queries.libsonnet httpWorkloads) groups by
    // destination workload: reviews v1 and v2 are two WorkloadEntries of one workload name here.
    const byWorkload = await prom.query(
      `sum(rate(istio_requests_total{reporter=~"source|waypoint"}[${w}])) by (destination_workload, destination_workload_namespace, destination_service)`,
      end,
    );
    assert.deepEqual(
      byWorkload.map((s) => s.metric.destination_service).sort(),
      [RATINGS, REVIEWS],
      'one row per destination service',
    );
  });
});
