/**
 * End to end: VirtualService `retries.retryRemoteLocalities` on real sockets. Istio writes it as
 * Envoy's `envoy.retry_priorities.previous_priorities` with update_frequency 2 (pilot/pkg/
 * networking/core/route/retry: buildPreviousPrioritiesConfig); Envoy then recomputes priority
 * load without the priorities already attempted once two attempts were made (router docs
 * "Retry plugin configuration", arch_overview/http/http_connection_management). With locality
 * failover on (Istio needs outlierDetection for it), the client's own locality is priority 0 and
 * a remote region a lower one, so the second retry goes to the remote locality.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { createMeshFolder, type MeshFolder, routeYaml, serviceYaml } from '../support/mesh-folder.ts';
import { sendMany } from '../support/send.ts';
import { seededRandom, tally } from '../support/stats.ts';
import { startUpstream, switchableHandler, type Upstream } from '../support/upstream.ts';

const LOCAL = 'us-east/zone-a/sub-1';
const REMOTE = 'us-west/zone-c/sub-1';
const REQUESTS = 20;

describe('retryRemoteLocalities', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  const up: Record<string, Upstream> = {};

  before(async () => {
    // One failing endpoint in the client's locality and one healthy endpoint in another region,
    // per service, so each test counts only its own traffic.
    for (const svc of ['remote', 'stay']) {
      up[`${svc}-local`] = await startUpstream(`${svc}-local`, switchableHandler({ status: 503 }));
      up[`${svc}-far`] = await startUpstream(`${svc}-far`, switchableHandler({ status: 200 }));
    }
    folder = await createMeshFolder();
    const services = ['remote', 'stay'].map((svc) =>
      serviceYaml(svc, 9080, [
        { name: `${svc}-local`, port: up[`${svc}-local`]!.port, labels: {}, locality: LOCAL },
        { name: `${svc}-far`, port: up[`${svc}-far`]!.port, labels: {}, locality: REMOTE },
      ]),
    );
    await folder.write('services.yaml', services.join('---\n'));
    const rules = ['remote', 'stay'].map(
      (svc) => `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: { name: ${svc} }
spec:
  host: ${svc}
  trafficPolicy:
    # Locality failover needs outlier detection; a threshold no test reaches keeps both hosts in.
    outlierDetection: { consecutive5xxErrors: 1000, interval: 10s, baseEjectionTime: 30s }
---
${routeYaml(svc, `retries: { attempts: 2, retryOn: "503", backoff: 1ms, retryRemoteLocalities: ${svc === 'remote'} }`)}`,
    );
    await folder.write('rules.yaml', rules.join('---\n'));
    mesh = await createMesh({
      workload: { namespace: 'default', locality: LOCAL, labels: { app: 'client' } },
      config: istioFiles(folder.dir, { watch: false }),
      logger: null,
      random: seededRandom(5),
    });
  });

  after(async () => {
    await mesh?.close();
    for (const u of Object.values(up)) await u.close();
    await folder?.remove();
  });

  test(`true: the second retry of each of ${REQUESTS} requests goes to the remote locality (update_frequency 2)`, async () => {
    const sent = await sendMany(mesh, 'http://remote:9080/', REQUESTS);
    assert.deepEqual(tally(sent.map((s) => `${s.status} ${s.upstream}`)), { '200 remote-far': REQUESTS });
    // Attempt 1 and retry 1 (one attempt < update_frequency: loads unchanged) stay local; retry 2 leaves.
    assert.equal(up['remote-local']!.received.length, 2 * REQUESTS);
    assert.equal(up['remote-far']!.received.length, REQUESTS);
  });

  test(`false (control): every attempt of ${REQUESTS} requests stays local and the caller gets the 503`, async () => {
    const sent = await sendMany(mesh, 'http://stay:9080/', REQUESTS);
    assert.deepEqual(tally(sent.map((s) => `${s.status} ${s.upstream}`)), { '503 stay-local': REQUESTS });
    assert.equal(up['stay-local']!.received.length, 3 * REQUESTS);
    assert.equal(up['stay-far']!.received.length, 0);
  });
});
