/**
 * Trace-context codecs against the examples of their specifications: W3C Trace Context
 * (https://www.w3.org/TR/trace-context/), W3C Baggage (https://www.w3.org/TR/baggage/) and B3
 * (https://github.com/openzipkin/b3-propagation).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, propagation, trace } from '@opentelemetry/api';
import { formatB3Single, parseB3Multi, parseB3Single } from '../../src/telemetry/propagation/b3.ts';
import { contextWithTraceContext, extractTraceContext } from '../../src/telemetry/propagation/extract.ts';
import { formatBaggage, parseBaggage } from '../../src/telemetry/propagation/w3c-baggage.ts';
import {
  formatTraceparent,
  parseTraceparent,
  parseTracestate,
} from '../../src/telemetry/propagation/w3c-trace-context.ts';

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPAN = 'b7ad6b7169203331';

describe('W3C traceparent (Trace Context level 1, section 3.2)', () => {
  it('parses the spec example, sampled and not sampled', () => {
    assert.deepEqual(parseTraceparent(`00-${TRACE}-${SPAN}-01`), {
      traceId: TRACE,
      spanId: SPAN,
      traceFlags: 1,
      isRemote: true,
    });
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags, 0);
  });
  it('keeps only the sampled bit of version 00 flags', () => {
    assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-ff`)?.traceFlags, 1);
    // Every flags byte: the sampled bit is its lowest (spec 3.2.2.5).
    for (let flags = 0; flags < 256; flags++) {
      const hex = flags.toString(16).padStart(2, '0');
      assert.equal(parseTraceparent(`00-${TRACE}-${SPAN}-${hex}`)?.traceFlags, flags & 1, hex);
    }
  });
  const invalid: [string, string][] = [
    ['all-zero trace id', `00-00000000000000000000000000000000-${SPAN}-01`],
    ['all-zero parent id', `00-${TRACE}-0000000000000000-01`],
    ['uppercase hex', `00-${TRACE.toUpperCase()}-${SPAN}-01`],
    ['version ff', `ff-${TRACE}-${SPAN}-01`],
    ['version 00 with a trailing field', `00-${TRACE}-${SPAN}-01-extra`],
    ['short trace id', `00-${TRACE.slice(1)}-${SPAN}-01`],
    ['long span id', `00-${TRACE}-${SPAN}0-01`],
    ['bad separator', `00_${TRACE}-${SPAN}-01`],
    ['non-hex flags', `00-${TRACE}-${SPAN}-0x`],
    ['empty', ''],
  ];
  for (const [name, value] of invalid) {
    it(`rejects ${name}`, () => assert.equal(parseTraceparent(value), undefined));
  }
  it('parses a future version as 00 when it appends fields after a dash (3.2.4)', () => {
    assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01-what-the-future-will-be-like`)?.spanId, SPAN);
    assert.equal(parseTraceparent(`cc-${TRACE}-${SPAN}-01what`), undefined);
  });
  it('formats version 00', () => {
    assert.equal(formatTraceparent(TRACE, SPAN, true), `00-${TRACE}-${SPAN}-01`);
    assert.equal(formatTraceparent(TRACE, SPAN, false), `00-${TRACE}-${SPAN}-00`);
  });
});

describe('W3C tracestate (section 3.3)', () => {
  it('parses the spec example, list order kept', () => {
    assert.equal(
      parseTracestate('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')?.serialize(),
      'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
    );
  });
  it('accepts multi-tenant keys and skips empty members', () => {
    assert.equal(parseTracestate('fw529a3039@dt=abc, ,rojo=1')?.get('fw529a3039@dt'), 'abc');
  });
  it('drops the whole header on an invalid key, a duplicate key, or more than 32 members', () => {
    assert.equal(parseTracestate('Rojo=1'), undefined);
    assert.equal(parseTracestate('rojo=1,rojo=2'), undefined);
    assert.equal(parseTracestate('rojo=a,b'), undefined);
    const members = Array.from({ length: 33 }, (_, i) => `k${i}=v`).join(',');
    assert.equal(parseTracestate(members), undefined);
    assert.notEqual(parseTracestate(members.split(',').slice(0, 32).join(',')), undefined);
  });
  it('keeps traceparent when tracestate is invalid', () => {
    const x = extractTraceContext({ traceparent: `00-${TRACE}-${SPAN}-01`, tracestate: 'Bad=1' });
    assert.equal(x.spanContext?.spanId, SPAN);
    assert.equal(x.spanContext?.traceState, undefined);
  });
});

describe('B3 (openzipkin/b3-propagation)', () => {
  it('pads a 64-bit trace id to 128 bits', () => {
    const b3 = parseB3Multi(
      getter({ 'x-b3-traceid': '463ac35c9f6413ad', 'x-b3-spanid': 'a2fb4a1d1a96d312', 'x-b3-sampled': '1' }),
    );
    assert.equal(b3?.traceId, '0000000000000000463ac35c9f6413ad');
    assert.equal(b3?.sampled, true);
  });
  it('reads the multi headers with a parent and lowercases hex', () => {
    const b3 = parseB3Multi(
      getter({
        'x-b3-traceid': '80F198EE56343BA864FE8B2A57D3EFF7',
        'x-b3-spanid': 'e457b5a2e4d86bd1',
        'x-b3-parentspanid': '05e3ac9a4f6e3b90',
        'x-b3-sampled': '0',
      }),
    );
    assert.deepEqual(b3, {
      traceId: '80f198ee56343ba864fe8b2a57d3eff7',
      spanId: 'e457b5a2e4d86bd1',
      parentSpanId: '05e3ac9a4f6e3b90',
      sampled: false,
      debug: false,
    });
  });
  it('x-b3-flags: 1 is debug and implies sampled', () => {
    const b3 = parseB3Multi(getter({ 'x-b3-traceid': TRACE, 'x-b3-spanid': SPAN, 'x-b3-flags': '1' }));
    assert.equal(b3?.debug, true);
    assert.equal(b3?.sampled, true);
  });
  it('a lone x-b3-sampled carries a decision without ids', () => {
    assert.deepEqual(parseB3Multi(getter({ 'x-b3-sampled': '0' })), {
      traceId: undefined,
      spanId: undefined,
      parentSpanId: undefined,
      sampled: false,
      debug: false,
    });
  });
  it('rejects zero or malformed ids and a missing span id', () => {
    assert.equal(
      parseB3Multi(getter({ 'x-b3-traceid': '0000000000000000', 'x-b3-spanid': SPAN })),
      undefined,
    );
    assert.equal(
      parseB3Multi(getter({ 'x-b3-traceid': TRACE, 'x-b3-spanid': '0000000000000000' })),
      undefined,
    );
    assert.equal(parseB3Multi(getter({ 'x-b3-traceid': TRACE })), undefined);
    assert.equal(parseB3Multi(getter({ 'x-b3-traceid': `${TRACE}00`, 'x-b3-spanid': SPAN })), undefined);
    assert.equal(parseB3Multi(getter({})), undefined);
  });
  it('reads the single header examples of the spec', () => {
    assert.deepEqual(parseB3Single('80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90'), {
      traceId: '80f198ee56343ba864fe8b2a57d3eff7',
      spanId: 'e457b5a2e4d86bd1',
      parentSpanId: '05e3ac9a4f6e3b90',
      sampled: true,
      debug: false,
    });
    assert.equal(parseB3Single('a3ce929d0e0e4736-00f067aa0ba902b7')?.sampled, undefined);
    assert.equal(
      parseB3Single('a3ce929d0e0e4736-00f067aa0ba902b7')?.traceId,
      '0000000000000000a3ce929d0e0e4736',
    );
    assert.equal(parseB3Single('0')?.sampled, false);
    assert.equal(parseB3Single('d')?.debug, true);
    assert.equal(parseB3Single('x'), undefined);
    assert.equal(parseB3Single(`${TRACE}-${SPAN}-2`), undefined);
    assert.equal(parseB3Single(`${TRACE}-${SPAN}-1-${SPAN}-x`), undefined);
  });
  it('formats the single header', () => {
    assert.equal(formatB3Single(TRACE, SPAN, true, false, undefined), `${TRACE}-${SPAN}-1`);
    assert.equal(
      formatB3Single(TRACE, SPAN, false, false, 'a2fb4a1d1a96d312'),
      `${TRACE}-${SPAN}-0-a2fb4a1d1a96d312`,
    );
    assert.equal(formatB3Single(TRACE, SPAN, true, true, undefined), `${TRACE}-${SPAN}-d`);
  });
});

describe('W3C baggage', () => {
  it('parses the spec example with properties and whitespace', () => {
    const b = parseBaggage(
      'key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue',
    );
    assert.equal(b?.getEntry('key1')?.value, 'value1');
    assert.equal(b?.getEntry('key2')?.value, 'value2');
    assert.equal(b?.getEntry('key3')?.metadata?.toString(), 'propertyKey=propertyValue');
  });
  it('percent-decodes values and skips invalid members', () => {
    const b = parseBaggage('userId=alice%20smith,bad key=1,noequals,ok=%E2%82%AC,broken=%E2');
    assert.deepEqual(
      b?.getAllEntries().map(([k, e]) => [k, e.value]),
      [
        ['userId', 'alice smith'],
        ['ok', '€'],
      ],
    );
  });
  it('round-trips through formatBaggage', () => {
    const b = parseBaggage('a=1,b=x%2Cy')!;
    assert.equal(formatBaggage(b), 'a=1,b=x%2Cy');
  });
});

describe('extractTraceContext', () => {
  it('prefers traceparent over b3 over B3 multi', () => {
    const all = {
      traceparent: `00-${TRACE}-${SPAN}-01`,
      b3: `80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-0`,
      'x-b3-traceid': '463ac35c9f6413ad',
      'x-b3-spanid': 'a2fb4a1d1a96d312',
    };
    assert.equal(extractTraceContext(all).format, 'w3c');
    const { traceparent: _, ...noW3c } = all;
    assert.equal(extractTraceContext(noW3c).format, 'b3');
    assert.equal(extractTraceContext(noW3c).sampled, false);
    const { b3: __, ...multiOnly } = noW3c;
    assert.equal(extractTraceContext(multiOnly).format, 'b3multi');
    assert.equal(extractTraceContext(multiOnly).sampled, undefined);
  });
  it('falls back to B3 when traceparent is invalid', () => {
    const x = extractTraceContext({
      traceparent: 'garbage',
      'x-b3-traceid': TRACE,
      'x-b3-spanid': SPAN,
      'x-b3-sampled': '1',
    });
    assert.equal(x.format, 'b3multi');
    assert.equal(x.spanContext?.traceFlags, 1);
  });
  it('reads x-request-id and baggage, from a record, a Headers or a function', () => {
    const init = { 'x-request-id': 'abc', baggage: 'k=v' };
    for (const source of [init, new Headers(init), (n: string) => (init as Record<string, string>)[n]]) {
      const x = extractTraceContext(source);
      assert.equal(x.requestId, 'abc');
      assert.equal(x.baggage?.getEntry('k')?.value, 'v');
      assert.equal(x.spanContext, undefined);
    }
  });
  it('treats a duplicated traceparent (joined by Node) as invalid', () => {
    assert.equal(
      extractTraceContext({ traceparent: [`00-${TRACE}-${SPAN}-01`, `00-${TRACE}-${SPAN}-01`] }).spanContext,
      undefined,
    );
  });
  it('contextWithTraceContext sets the remote parent and baggage; a lone "do not sample" starts an unsampled trace', () => {
    const ctx = contextWithTraceContext(
      context.active(),
      extractTraceContext({ traceparent: `00-${TRACE}-${SPAN}-01`, baggage: 'k=v' }),
    );
    assert.equal(trace.getSpanContext(ctx)?.spanId, SPAN);
    assert.equal(propagation.getBaggage(ctx)?.getEntry('k')?.value, 'v');
    const unsampled = trace.getSpanContext(
      contextWithTraceContext(context.active(), extractTraceContext({ b3: '0' })),
    );
    assert.equal(unsampled?.traceFlags, 0);
    assert.equal(unsampled?.isRemote, true);
    assert.equal(
      trace.getSpanContext(contextWithTraceContext(context.active(), extractTraceContext({}))),
      undefined,
    );
  });
});

function getter(record: Record<string, string>): (name: string) => string | undefined {
  return (name) => record[name];
}
