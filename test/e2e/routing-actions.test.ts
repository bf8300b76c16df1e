/**
 * End to end: VirtualService match conditions and route actions, seen from both ends of a real
 * socket (what the upstream receives, what the client gets back).
 *
 * Pins: Istio VirtualService HTTPMatchRequest (uri prefix/exact/regex, queryParams, method,
 * withoutHeaders, ignoreUriCase), HTTPRewrite (uri, authority), HTTPRedirect, HTTPDirectResponse and
 * Headers (istio.io/latest/docs/reference/config/networking/virtual-service/), and Envoy's
 * RouteMatch / RedirectAction / DirectResponseAction / header manipulation
 * (route/v3/route_components.proto, configuration/http/http_conn_man/headers).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createMesh, type Mesh } from '@dabba/client';
import { istioFiles } from '@dabba/discovery';
import { request } from 'undici';
import { createMeshFolder, type MeshFolder, serviceYaml } from '../support/mesh-folder.ts';
import { startUpstream, type Upstream } from '../support/upstream.ts';

const VS = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: { name: web }
spec:
  hosts: [web]
  http:
    - match: [{ uri: { prefix: /old } }]
      redirect: { uri: /new, authority: other.example, redirectCode: 302 }
    - match: [{ uri: { exact: /teapot } }]
      directResponse: { status: 418, body: { string: short and stout } }
    - match: [{ uri: { regex: "/items/[0-9]+" } }]
      route: [{ destination: { host: web } }]
      headers: { request: { set: { x-route: regex } } }
    - match: [{ uri: { prefix: /api/ } }]
      rewrite: { uri: /v2/, authority: backend.internal }
      route: [{ destination: { host: web } }]
      headers: { request: { set: { x-route: rewrite } } }
    - match: [{ uri: { prefix: /q }, queryParams: { mode: { exact: debug } } }]
      route: [{ destination: { host: web } }]
      headers: { request: { set: { x-route: query } } }
    - match: [{ uri: { prefix: /m }, method: { exact: POST } }]
      route: [{ destination: { host: web } }]
      headers: { request: { set: { x-route: post } } }
    - match: [{ uri: { prefix: /beta }, withoutHeaders: { x-beta: { exact: "1" } } }]
      route: [{ destination: { host: web } }]
      headers: { request: { set: { x-route: not-beta } } }
    - match: [{ uri: { exact: /Case }, ignoreUriCase: true }]
      route: [{ destination: { host: web } }]
      headers: { request: { set: { x-route: case } } }
    - match: [{ uri: { prefix: /headers } }]
      route: [{ destination: { host: web } }]
      headers:
        request:
          set: { x-set: one }
          add: { x-add: two }
          remove: [x-remove]
        response:
          set: { x-resp: three }
          remove: [x-upstream]
    - route: [{ destination: { host: web } }]
      headers: { request: { set: { x-route: default } } }
`;

interface Seen {
  url: string;
  host: string;
  headers: Record<string, string | string[]>;
}

describe('routing actions', () => {
  let folder: MeshFolder;
  let mesh: Mesh;
  let web: Upstream;

  const send = async (
    path: string,
    init: { method?: string; headers?: Record<string, string | string[]> } = {},
  ) => {
    const res = await request(`http://web:9080${path}`, {
      dispatcher: mesh,
      method: (init.method ?? 'GET') as 'GET',
      headers: init.headers ?? {},
    });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  };
  const seen = async (path: string, init?: Parameters<typeof send>[1]): Promise<Seen> => {
    const r = await send(path, init);
    assert.equal(r.status, 200, r.text);
    return JSON.parse(r.text) as Seen;
  };

  before(async () => {
    web = await startUpstream('web', (req, res, self) => {
      res.setHeader('x-upstream', self.name);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ url: req.url, host: req.headers.host, headers: req.headers }));
    });
    folder = await createMeshFolder();
    await folder.write('web.yaml', serviceYaml('web', 9080, [{ name: 'web-1', port: web.port, labels: {} }]));
    await folder.write('vs.yaml', VS);
    mesh = await createMesh({ config: istioFiles(folder.dir, { watch: false }), logger: null });
  });

  after(async () => {
    await mesh?.close();
    await web?.close();
    await folder?.remove();
  });

  test('redirect: 302 with Location built from the request scheme, the new authority and uri; no upstream request', async () => {
    const before = web.received.length;
    const r = await send('/old/page?x=1');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://other.example/new?x=1');
    assert.equal(web.received.length, before);
  });

  test('directResponse: status and body from the route; no upstream request', async () => {
    const before = web.received.length;
    const r = await send('/teapot');
    assert.equal(r.status, 418);
    assert.equal(r.text, 'short and stout');
    assert.equal(web.received.length, before);
  });

  test('regex uri match is a full match (RE2 safe_regex): /items/42 matches, /items/42/x does not', async () => {
    assert.equal((await seen('/items/42')).headers['x-route'], 'regex');
    assert.equal((await seen('/items/42/x')).headers['x-route'], 'default');
  });

  test('rewrite.uri replaces the matched prefix; rewrite.authority is the Host the upstream sees', async () => {
    const s = await seen('/api/users?id=7');
    assert.equal(s.headers['x-route'], 'rewrite');
    assert.equal(s.url, '/v2/users?id=7');
    assert.equal(s.host, 'backend.internal');
  });

  test('queryParams match: ?mode=debug routes, another value does not', async () => {
    assert.equal((await seen('/q?mode=debug')).headers['x-route'], 'query');
    assert.equal((await seen('/q?mode=prod')).headers['x-route'], 'default');
  });

  test('method match: POST routes, GET does not', async () => {
    assert.equal((await seen('/m', { method: 'POST' })).headers['x-route'], 'post');
    assert.equal((await seen('/m')).headers['x-route'], 'default');
  });

  test('withoutHeaders: matches when the header is absent or different, not when it matches', async () => {
    assert.equal((await seen('/beta')).headers['x-route'], 'not-beta');
    assert.equal((await seen('/beta', { headers: { 'x-beta': '0' } })).headers['x-route'], 'not-beta');
    assert.equal((await seen('/beta', { headers: { 'x-beta': '1' } })).headers['x-route'], 'default');
  });

  test('ignoreUriCase: /CASE matches exact /Case', async () => {
    assert.equal((await seen('/CASE')).headers['x-route'], 'case');
    assert.equal((await seen('/Case')).headers['x-route'], 'case');
  });

  test('request headers set/add/remove reach the upstream; response set/remove reach the client', async () => {
    const r = await send('/headers', {
      headers: { 'x-set': 'client', 'x-add': 'client', 'x-remove': 'gone', 'x-keep': 'kept' },
    });
    assert.equal(r.status, 200);
    const s = JSON.parse(r.text) as Seen;
    assert.equal(s.headers['x-set'], 'one');
    // add appends to the client's value (Envoy append_action APPEND_IF_EXISTS_OR_ADD).
    assert.equal(s.headers['x-add'], 'client, two');
    assert.equal(s.headers['x-remove'], undefined);
    assert.equal(s.headers['x-keep'], 'kept');
    assert.equal(r.headers['x-resp'], 'three');
    assert.equal(r.headers['x-upstream'], undefined);
    // control: without the route's response mutations the upstream's header arrives.
    assert.equal((await send('/other')).headers['x-upstream'], 'web');
  });
});
