/**
 * @dabba/core: the error base, Envoy's response flags in Envoy's order, the system clock (long
 * delays in pieces) and the random source.
 */
import assert from 'node:assert/strict';
import { describe, it, mock } from 'node:test';
import {
  ConfigError,
  DabbaError,
  ENVOY_RESPONSE_FLAG_ORDER,
  formatIssue,
  MAX_TIMER_MS,
  ManualClock,
  ResponseFlag,
  randomUint32,
  SYSTEM_CLOCK,
} from '../src/index.ts';

describe('errors', () => {
  it('a DabbaError is recognised by its brand, even from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { code: 'DABBA_X' });
    Object.defineProperty(foreign, Symbol.for('dabba.error'), { value: true });
    assert.ok(foreign instanceof DabbaError);
    assert.ok(!(new Error('plain') instanceof DabbaError));
    const err = new ConfigError([{ source: 'f.yaml', line: 3, path: 'spec.hosts[0]', message: 'bad' }]);
    assert.ok(err instanceof DabbaError);
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'DABBA_CONFIG_INVALID');
    assert.equal(err.name, 'ConfigError');
  });

  it('formats an issue as source:line kind/namespace/name path: message', () => {
    assert.equal(
      formatIssue({
        source: 'mesh/vs.yaml',
        line: 7,
        resource: { kind: 'VirtualService', namespace: 'default', name: 'reviews' },
        path: 'spec.http[0]',
        message: 'unknown subset',
      }),
      'mesh/vs.yaml:7 VirtualService/default/reviews spec.http[0]: unknown subset',
    );
  });
});

describe('response flags', () => {
  it("every flag of Envoy's CORE_RESPONSE_FLAGS, in its order (stream_info.h)", () => {
    assert.deepEqual(ENVOY_RESPONSE_FLAG_ORDER, [
      'LH',
      'UH',
      'UT',
      'LR',
      'UR',
      'UF',
      'UC',
      'UO',
      'NR',
      'DI',
      'FI',
      'RL',
      'UAEX',
      'RLSE',
      'DC',
      'URX',
      'SI',
      'IH',
      'DPE',
      'UMSDR',
      'RFCF',
      'NFCF',
      'DT',
      'UPE',
      'NC',
      'OM',
      'DF',
      'DO',
      'DR',
    ]);
    assert.equal(ResponseFlag.NO_HEALTHY_UPSTREAM, 'UH');
    assert.equal(new Set(ENVOY_RESPONSE_FLAG_ORDER).size, ENVOY_RESPONSE_FLAG_ORDER.length);
  });
});

describe('SYSTEM_CLOCK', () => {
  it('a delay past the timer limit fires at its full length, once; cancel stops it', () => {
    mock.timers.enable({ apis: ['setTimeout'] });
    try {
      const fired: string[] = [];
      SYSTEM_CLOCK.schedule((tag: string) => fired.push(tag), MAX_TIMER_MS * 2 + 5, 'long');
      // Node would fire it after 1 ms; it waits out each piece.
      mock.timers.tick(MAX_TIMER_MS);
      mock.timers.tick(MAX_TIMER_MS);
      assert.equal(fired.length, 0);
      mock.timers.tick(5);
      assert.deepEqual(fired, ['long']);
      const timer = SYSTEM_CLOCK.schedule((tag: string) => fired.push(tag), 10, 'short');
      SYSTEM_CLOCK.cancel(timer);
      SYSTEM_CLOCK.cancel(timer);
      const long = SYSTEM_CLOCK.schedule((tag: string) => fired.push(tag), MAX_TIMER_MS + 10, 'cancelled');
      mock.timers.tick(MAX_TIMER_MS);
      SYSTEM_CLOCK.cancel(long);
      mock.timers.tick(20);
      assert.deepEqual(fired, ['long']);
    } finally {
      mock.timers.reset();
    }
  });

  it('now() is monotonic milliseconds and wallNow() epoch milliseconds', () => {
    const a = SYSTEM_CLOCK.now();
    assert.ok(SYSTEM_CLOCK.now() >= a);
    assert.ok(Math.abs(SYSTEM_CLOCK.wallNow() - Date.now()) < 1000);
  });
});

describe('randomUint32', () => {
  it('maps [0, 1) onto every unsigned 32-bit integer', () => {
    assert.equal(
      randomUint32(() => 0),
      0,
    );
    assert.equal(
      randomUint32(() => 0.999999999999),
      4294967295,
    );
    assert.equal(
      randomUint32(() => 0.5),
      2147483648,
    );
  });
});

describe('ManualClock', () => {
  it('runs due timers in order of due time, then of arming, each at its due time', () => {
    const clock = new ManualClock(100);
    const seen: string[] = [];
    const at = (tag: string) => () => seen.push(`${tag}@${clock.now()}`);
    clock.schedule(at('b'), 20, undefined);
    clock.schedule(at('a'), 10, undefined);
    clock.schedule(at('a2'), 10, undefined);
    const c = clock.schedule(at('c'), 15, undefined);
    clock.cancel(c);
    clock.schedule(() => clock.schedule(at('nested'), 0, undefined), 5, undefined);
    clock.advance(15);
    assert.deepEqual(seen, ['nested@105', 'a@110', 'a2@110']);
    assert.equal(clock.now(), 115);
    assert.equal(clock.pending, 1);
    clock.advance(10);
    assert.deepEqual(seen.at(-1), 'b@120');
    assert.equal(clock.pending, 0);
    assert.equal(clock.wallNow() - clock.now(), 1_700_000_000_000);
  });
});
