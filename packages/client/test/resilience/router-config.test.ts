/**
 * The router's retry policy is compiled once per snapshot with the route table: a route's own
 * RetryPolicy replaces the virtual host's (VirtualHost.retry_policy: "setting a route level
 * entry will take precedence over this config"), and a policy Envoy would reject is a
 * configuration error naming its field path, collected with the route table's other issues.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { RouteConfigurationSchema } from '@dabba/discovery';
import { RetryOn } from '../../src/resilience/retry-policy.ts';
import { compileRouteTable, RouteConfigError } from '../route/helpers.ts';

function table(routes: JsonValue[], vhost: Record<string, JsonValue> = {}) {
  const config = fromJson(RouteConfigurationSchema, {
    name: 'rc',
    virtualHosts: [{ name: 'vh', domains: ['*'], routes, ...vhost }],
  });
  return compileRouteTable(config);
}

function action(t: ReturnType<typeof table>, path: string) {
  const s = t.select({ method: 'GET', scheme: 'http', authority: 'x', path, query: '', headers: {} });
  assert.ok(s && s.action.kind === 'cluster');
  return s.action;
}

test('the compiled retry policy comes from the route, else from the virtual host; none without either', () => {
  const withVhost = table(
    [
      { match: { path: '/own' }, route: { cluster: 'a', retryPolicy: { retryOn: '5xx', numRetries: 3 } } },
      { match: { path: '/inherit' }, route: { cluster: 'a' } },
    ],
    { retryPolicy: { retryOn: 'connect-failure', numRetries: 2, perTryTimeout: '0.1s' } },
  );
  const own = action(withVhost, '/own').retry;
  assert.equal(own?.retryOn, RetryOn.FIVE_XX);
  assert.equal(own?.numRetries, 3);
  assert.equal(own?.perTryTimeoutMs, 0);
  const inherited = action(withVhost, '/inherit').retry;
  assert.equal(inherited?.retryOn, RetryOn.CONNECT_FAILURE);
  assert.equal(inherited?.perTryTimeoutMs, 100);
  assert.equal(action(table([{ match: { prefix: '/' }, route: { cluster: 'a' } }]), '/x').retry, undefined);
});

test('a retry policy Envoy rejects is a configuration error with its path, listed with the other issues', () => {
  assert.throws(
    () =>
      table([
        {
          match: { prefix: '/a' },
          route: { cluster: 'a', retryPolicy: { retryOn: '5xx', retryBackOff: { maxInterval: '1s' } } },
        },
        {
          match: { prefix: '/b' },
          route: {
            cluster: 'a',
            retryPolicy: { retryOn: '5xx', retryBackOff: { baseInterval: '2s', maxInterval: '1s' } },
          },
        },
      ]),
    (err: unknown) => {
      assert.ok(err instanceof RouteConfigError);
      const paths = err.issues.map((i) => i.path);
      assert.deepEqual(paths, [
        'virtualHosts[0].routes[0].route.retryPolicy.retryBackOff.baseInterval',
        'virtualHosts[0].routes[1].route.retryPolicy.retryBackOff.maxInterval',
      ]);
      return true;
    },
  );
});
