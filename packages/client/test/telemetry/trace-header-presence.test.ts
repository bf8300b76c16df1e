/**
 * The one-pass pre-check of tracing headers: a clear bit must mean the header is absent (no false
 * negatives, whatever the case of the name or the shape of the headers), so the lookups it saves
 * would have found nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IncomingRequest, type RawHeaders } from '../../src/dispatch/incoming-request.ts';
import {
  HAS_CLIENT_TRACE_ID,
  HAS_FORCE_TRACE,
  HAS_REQUEST_ID,
  HAS_TRACE_CONTEXT,
  traceHeadersPresent,
} from '../../src/telemetry/propagation/trace-header-presence.ts';

const ALL = HAS_REQUEST_ID | HAS_TRACE_CONTEXT | HAS_CLIENT_TRACE_ID | HAS_FORCE_TRACE;

/** Each tracing header and the bit that announces it. */
const NAMES: [string, number][] = [
  ['x-request-id', HAS_REQUEST_ID],
  ['traceparent', HAS_TRACE_CONTEXT],
  ['b3', HAS_TRACE_CONTEXT],
  ['x-b3-traceid', HAS_TRACE_CONTEXT],
  ['x-b3-spanid', HAS_TRACE_CONTEXT],
  ['x-b3-parentspanid', HAS_TRACE_CONTEXT],
  ['x-b3-sampled', HAS_TRACE_CONTEXT],
  ['x-b3-flags', HAS_TRACE_CONTEXT],
  ['x-client-trace-id', HAS_CLIENT_TRACE_ID],
  ['x-envoy-force-trace', HAS_FORCE_TRACE],
];

describe('traceHeadersPresent', () => {
  it('no headers, or only other ones: nothing to look up', () => {
    assert.equal(traceHeadersPresent(undefined), 0);
    assert.equal(traceHeadersPresent(null), 0);
    const common = {
      'user-agent': 'a',
      'content-type': 'b',
      connection: 'c',
      'x-forwarded-for': 'd',
      tracestate: 'k=v', // meaningless without traceparent
      'x-b3-other': 'e',
      baggage: 'k=v',
    };
    assert.equal(traceHeadersPresent(common), 0);
  });

  it('each tracing header sets its bit, in any case, in a record or a flat array', () => {
    for (const [name, bit] of NAMES) {
      for (const spelling of [name, name.toUpperCase(), name[0]!.toUpperCase() + name.slice(1)]) {
        assert.equal(traceHeadersPresent({ accept: '*/*', [spelling]: '1' }), bit, spelling);
        assert.equal(traceHeadersPresent(['accept', '*/*', spelling, '1']), bit, spelling);
      }
    }
    assert.equal(
      traceHeadersPresent({ 'x-request-id': 'r', traceparent: 't', 'x-client-trace-id': 'c' }),
      HAS_REQUEST_ID | HAS_TRACE_CONTEXT | HAS_CLIENT_TRACE_ID,
    );
  });

  it('a name with no value is absent, as the header index drops it', () => {
    assert.equal(traceHeadersPresent({ 'x-request-id': undefined }), 0);
    assert.equal(
      traceHeadersPresent(['x-request-id', null, 'b3', '1'] as unknown as RawHeaders),
      HAS_TRACE_CONTEXT,
    );
  });

  it('headers it cannot enumerate (an iterable) are looked up', () => {
    assert.equal(traceHeadersPresent(new Map([['user-agent', 'a']]) as unknown as RawHeaders), ALL);
  });

  it('property: n = 3000 random header sets; every header the request holds has its bit set', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const pool = [...NAMES.map(([n]) => n), 'user-agent', 'accept', 'x-app', 'tracestate', 'b', 'x-b3'];
    for (let i = 0; i < 3000; i++) {
      const record: Record<string, string> = {};
      const flat: string[] = [];
      for (let k = Math.floor(next() * 5); k > 0; k--) {
        let name = pool[Math.floor(next() * pool.length)]!;
        name = [...name].map((c) => (next() < 0.3 ? c.toUpperCase() : c)).join('');
        record[name] = 'v';
        flat.push(name, 'v');
      }
      for (const raw of [record, flat] as RawHeaders[]) {
        const bits = traceHeadersPresent(raw);
        const request = new IncomingRequest('GET', 'http', 'a:80', '/', raw);
        for (const [name, bit] of NAMES) {
          if (request.get(name) !== undefined)
            assert.ok((bits & bit) !== 0, `${name} in ${JSON.stringify(raw)}`);
        }
      }
    }
  });
});
