/**
 * The `accessLog` option of `createMesh()`: public shape, defaults and validation. The format is
 * compiled here, once, so an unknown operator is a configuration error at construction.
 */
import type { ConfigIssue } from '@dabba/discovery';
import { checkOptionObject } from '../../option-shape.ts';
import type { AccessLogEntry } from './access-log-entry.ts';
import {
  compileTextFormat,
  ENVOY_DEFAULT_FORMAT,
  ISTIO_TEXT_FORMAT,
  renderJson,
  renderText,
} from './access-log-format.ts';

/** Where lines go: anything with `write(string)`, such as `process.stdout` or a file stream. */
export interface AccessLogStream {
  write(line: string): unknown;
}

/** One access log line per logical request, as an Envoy sidecar with Istio's access logging writes it. */
export interface AccessLogOptions {
  /** Default `true` when the `accessLog` object is given. */
  readonly enabled?: boolean;
  /** Default `process.stdout` (Istio's `accessLogFile: /dev/stdout`). */
  readonly stream?: AccessLogStream;
  /**
   * `'istio'` (default): Istio's default text format; `'envoy'`: Envoy's own default format
   * string; `'json'`: Istio's JSON encoding; or a format string of Envoy command operators
   * (`%START_TIME%`, `%REQ(USER-AGENT)%`, `%RESPONSE_FLAGS%`...), ending with `\n` for one line
   * per request.
   */
  readonly format?: 'istio' | 'envoy' | 'json' | (string & {});
}

export interface ResolvedAccessLogOptions {
  readonly stream: AccessLogStream;
  readonly render: (entry: AccessLogEntry) => string;
}

const KEYS = new Set(['enabled', 'stream', 'format']);

export function resolveAccessLogOptions(
  value: AccessLogOptions | undefined,
  source: string,
  issues: ConfigIssue[],
): ResolvedAccessLogOptions | undefined {
  if (value === undefined) return undefined;
  const base = 'accessLog';
  if (!checkOptionObject(value, base, KEYS, source, issues)) return undefined;
  if (value.enabled !== undefined && typeof value.enabled !== 'boolean') {
    issues.push({ source, path: `${base}.enabled`, message: 'must be a boolean' });
  }
  const stream = value.stream ?? process.stdout;
  if (stream === null || typeof (stream as AccessLogStream).write !== 'function') {
    issues.push({ source, path: `${base}.stream`, message: 'must have a write(string) method' });
  }
  const format = value.format ?? 'istio';
  let render: ((entry: AccessLogEntry) => string) | undefined;
  if (typeof format !== 'string' || format === '') {
    issues.push({
      source,
      path: `${base}.format`,
      message: "must be 'istio', 'envoy', 'json' or a format string",
    });
  } else if (format === 'json') {
    render = renderJson;
  } else {
    const text = format === 'istio' ? ISTIO_TEXT_FORMAT : format === 'envoy' ? ENVOY_DEFAULT_FORMAT : format;
    const unknown: string[] = [];
    const compiled = compileTextFormat(text, unknown);
    if (unknown.length > 0) {
      issues.push({
        source,
        path: `${base}.format`,
        message: `unknown command operator(s): ${unknown.map((u) => `%${u}%`).join(', ')}`,
      });
    }
    render = (entry) => renderText(compiled, entry);
  }
  if (value.enabled === false || render === undefined) return undefined;
  return Object.freeze({ stream, render });
}
