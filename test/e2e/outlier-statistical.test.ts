/**
 * End to end, on real sockets: Envoy's statistical outlier detectors, which Istio does not
 * expose (it writes enforcing_success_rate 0) but an xDS control plane may configure; set here on
 * the translated clusters. Pins (cluster/v3/outlier_detection.proto, arch_overview/upstream/
 * outlier "Success Rate" and "Failure Percentage"): at each `interval` sweep, only hosts with at
 * least `*_request_volume` requests in the interval count; with fewer than `*_minimum_hosts` such
 * hosts the detector does nothing; success rate ejects a host below mean - stdev_factor/1000 x
 * stdev, failure percentage a host at or above the threshold, each with its enforcing percentage.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type ExplainedEndpoint, type Mesh } from '@dabba/client';
import type { Cluster } from '@dabba/discovery';
import { request } from 'undici';
import { routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { runMany, seededRandom } from '../support/stats.ts';
import { startUpstream, switchableHandler, type Upstream } from '../support/upstream.ts';
import { clusterFor, istioWithXdsEdits } from '../support/xds-overrides.ts';

const INTERVAL_MS = 400;
/** Requests per burst: 20 per endpoint, round robin over five. */
const BURST = 100;

type Detector = 'success-rate' | 'failure-percentage';

/** Each service: five endpoints (four answering 200, one 503) and one detector setting. */
const SERVICES: Record<string, { detector: Detector; minimumHosts: number; requestVolume: number }> = {
  sr: { detector: 'success-rate', minimumHosts: 5, requestVolume: 10 },
  srminhosts: { detector: 'success-rate', minimumHosts: 6, requestVolume: 10 },
  srvolume: { detector: 'success-rate', minimumHosts: 5, requestVolume: 1000 },
  fp: { detector: 'failure-percentage', minimumHosts: 5, requestVolume: 10 },
  fpminhosts: { detector: 'failure-percentage', minimumHosts: 6, requestVolume: 10 },
  fpvolume: { detector: 'failure-percentage', minimumHosts: 5, requestVolume: 1000 },
};

function configure(c: Cluster, s: (typeof SERVICES)[string]): void {
  const od = c.outlierDetection!;
  // Only the detector under test enforces: consecutive 5xx off (Istio: consecutive5xxErrors 0).
  od.enforcingConsecutive5xx = 0;
  od.enforcingConsecutiveGatewayFailure = 0;
  if (s.detector === 'success-rate') {
    od.enforcingSuccessRate = 100;
    od.successRateMinimumHosts = s.minimumHosts;
    od.successRateRequestVolume = s.requestVolume;
  } else {
    od.enforcingSuccessRate = 0;
    od.enforcingFailurePercentage = 100;
    od.failurePercentageThreshold = 85;
    od.failurePercentageMinimumHosts = s.minimumHosts;
    od.failurePercentageRequestVolume = s.requestVolume;
  }
}

describe('success-rate and failure-percentage outlier detection', () => {
  let mesh: Mesh;
  const up: Upstream[] = [];

  before(async () => {
    for (let i = 0; i < 4; i++) up.push(await startUpstream(`ok${i}`, switchableHandler({ status: 200 })));
    up.push(await startUpstream('bad', switchableHandler({ status: 503 })));
    const yaml = Object.keys(SERVICES)
      .map(
        (name) => `${serviceYaml(
          name,
          9080,
          up.map((u) => ({ name: `${name}-${u.name}`, port: u.port, labels: {} })),
        )}---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${name} }
spec:
  host: ${name}
  trafficPolicy:
    loadBalancer: { simple: ROUND_ROBIN }
    outlierDetection: { consecutive5xxErrors: 0, interval: ${INTERVAL_MS}ms, baseEjectionTime: 60s, maxEjectionPercent: 100 }
---
${routeYaml(name, 'retries: { attempts: 0 }')}`,
      )
      .join('---\n');
    mesh = await createMesh({
      workload: { namespace: 'default', labels: { app: 'client' } },
      config: istioWithXdsEdits(yaml, (resources) => {
        for (const [name, s] of Object.entries(SERVICES))
          configure(clusterFor(resources, `${name}.default.svc.cluster.local`), s);
      }),
      logger: null,
      random: seededRandom(41),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of up) await u.close();
  });

  const badEndpoint = (service: string): ExplainedEndpoint => {
    const e = mesh.explain({ url: `http://${service}:9080/` });
    const all = e.clusters[0]?.priorities.flatMap((p) => p.localities.flatMap((l) => l.endpoints)) ?? [];
    const found = all.find((x) => x.port === up[4]!.port);
    assert.ok(found);
    return found;
  };

  const burst = (service: string) =>
    runMany(BURST, 8, async () => {
      const res = await request(`http://${service}:9080/`, { dispatcher: mesh });
      await res.body.text();
    });

  /**
   * Bursts of 100 requests until `service`'s failing endpoint is ejected, at most `rounds` times,
   * each followed by a sweep: a burst may straddle two intervals, so one round may not reach
   * the volume in either; several cannot all miss.
   */
  async function ejectedWithin(service: string, rounds: number): Promise<boolean> {
    for (let i = 0; i < rounds; i++) {
      await burst(service);
      await new Promise((r) => setTimeout(r, INTERVAL_MS * 1.5));
      if (badEndpoint(service).outlier?.ejected === true) return true;
    }
    return false;
  }

  for (const detector of ['sr', 'fp'] as const) {
    const what = detector === 'sr' ? 'success rate' : 'failure percentage';
    test(`${what}: the endpoint failing every request is ejected once five hosts reach the volume`, async () => {
      assert.equal(await ejectedWithin(detector, 6), true);
      const bad = badEndpoint(detector);
      assert.equal(bad.health, 'unhealthy');
      // Only the failing endpoint: the four at 100% are never below the mean.
      const e = mesh.explain({ url: `http://${detector}:9080/` });
      const ejected = e.clusters[0]!.priorities.flatMap((p) =>
        p.localities.flatMap((l) => l.endpoints.filter((x) => x.outlier?.ejected === true)),
      );
      assert.equal(ejected.length, 1);
    });

    test(`${what}: fewer hosts than minimum_hosts (5 of 6) ejects nothing`, async () => {
      assert.equal(await ejectedWithin(`${detector}minhosts`, 2), false);
    });

    test(`${what}: hosts below request_volume (about 20 of 1000 per interval) count for nothing`, async () => {
      assert.equal(await ejectedWithin(`${detector}volume`, 2), false);
    });
  }
});
