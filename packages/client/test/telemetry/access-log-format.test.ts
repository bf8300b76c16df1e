/**
 * Envoy access log format strings (Envoy docs configuration/observability/access_log/usage:
 * "Format strings", "Command operators") compiled once and rendered per request.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessLogEntry } from '../../src/telemetry/access-log/access-log-entry.ts';
import {
  compileTextFormat,
  ENVOY_DEFAULT_FORMAT,
  renderJson,
  renderText,
} from '../../src/telemetry/access-log/access-log-format.ts';
import { resolveAccessLogOptions } from '../../src/telemetry/access-log/access-log-options.ts';

const entry: AccessLogEntry = {
  startTime: Date.UTC(2026, 0, 2, 10, 0, 0, 123),
  method: 'GET',
  pathAndQuery: '/a?b=1',
  authority: 'reviews:9080',
  protocol: 'HTTP/1.1',
  status: 503,
  responseFlags: 'UF,URX',
  responseCodeDetails: 'upstream_reset_before_response_started{connection_failure}',
  bytesReceived: 0,
  bytesSent: 0,
  durationMs: 12,
  upstreamServiceTimeMs: undefined,
  attempts: 3,
  upstreamHost: '10.0.0.1:9080',
  upstreamCluster: 'outbound|9080||reviews.default.svc.cluster.local',
  routeName: undefined,
  requestHeader: (name) => ({ 'user-agent': 'ua', 'x-alt': 'alt' })[name],
  responseHeader: (name) => (name === 'server' ? 'envoy' : undefined),
};

function render(format: string): string {
  const unknown: string[] = [];
  const compiled = compileTextFormat(format, unknown);
  assert.deepEqual(unknown, []);
  return renderText(compiled, entry);
}

describe('access log format strings', () => {
  it("Envoy's default format, unset values as '-'", () => {
    assert.equal(
      render(ENVOY_DEFAULT_FORMAT),
      '[2026-01-02T10:00:00.123Z] "GET /a?b=1 HTTP/1.1" 503 UF,URX 0 0 12 - "-" "ua" "-" "reviews:9080" "10.0.0.1:9080"\n',
    );
  });
  it('REQ(A?B) falls back to B; RESP reads the response; attempts and literal text kept', () => {
    assert.equal(
      render('%REQ(X-MISSING?X-ALT)% %RESP(SERVER)% %UPSTREAM_REQUEST_ATTEMPT_COUNT% 100%'),
      'alt envoy 3 100%',
    );
  });
  it('reports unknown operators, all of them', () => {
    const unknown: string[] = [];
    compileTextFormat('%NOPE% %START_TIME% %ALSO_NOPE%', unknown);
    assert.deepEqual(unknown, ['NOPE', 'ALSO_NOPE']);
  });
  it('JSON: numbers as numbers, unset as null', () => {
    const record = JSON.parse(renderJson(entry)) as Record<string, unknown>;
    assert.equal(record.response_code, 503);
    assert.equal(record.duration, 12);
    assert.equal(record.route_name, null);
    assert.equal(record.upstream_service_time, null);
    assert.equal(record.response_flags, 'UF,URX');
  });
  it('options: defaults to Istio text on stdout; bad values reported together', () => {
    const resolved = resolveAccessLogOptions({}, 's', []);
    assert.equal(resolved?.stream, process.stdout);
    assert.match(
      resolved!.render(entry),
      / outbound\|9080\|\|reviews.default.svc.cluster.local - - - - -\n$/,
    );
    const issues: { path: string }[] = [];
    resolveAccessLogOptions({ format: '', stream: {} as never, extra: 1 } as never, 's', issues as never);
    assert.deepEqual(issues.map((i) => i.path).sort(), [
      'accessLog.extra',
      'accessLog.format',
      'accessLog.stream',
    ]);
  });
});
