import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StringMatcher } from '../../src/route/match/index.ts';
import { compileStringMatcher } from './checked-matchers.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';

// envoy/type/matcher/v3/string.proto StringMatcher: exact/prefix/suffix/contains/safe_regex,
// ignore_case ("exact/prefix/suffix/contains matching should be case insensitive. This has no
// effect for the safe_regex match"). Envoy's StringMatcherImpl rejects ignore_case + safe_regex.
const cases: [string, StringMatcher, string, boolean][] = [
  ['exact hit', { exact: 'abc' }, 'abc', true],
  ['exact is case sensitive by default', { exact: 'abc' }, 'ABC', false],
  ['exact ignoreCase', { exact: 'aBc', ignoreCase: true }, 'AbC', true],
  ['exact empty matches only empty', { exact: '' }, '', true],
  ['exact empty does not match a value', { exact: '' }, 'x', false],
  ['prefix hit', { prefix: '/api' }, '/api/v1', true],
  ['prefix miss', { prefix: '/api' }, '/ap', false],
  ['prefix ignoreCase', { prefix: '/API', ignoreCase: true }, '/api/v1', true],
  ['suffix hit', { suffix: '.json' }, 'a.json', true],
  ['suffix ignoreCase', { suffix: '.JSON', ignoreCase: true }, 'a.Json', true],
  ['suffix longer than value', { suffix: 'abcd' }, 'bcd', false],
  ['contains hit', { contains: 'mid' }, 'amidb', true],
  ['contains ignoreCase', { contains: 'MiD', ignoreCase: true }, 'aMIDb', true],
  ['contains miss', { contains: 'mid' }, 'aMIDb', false],
  ['safe_regex is a full match', { safeRegex: { regex: 'a+' } }, 'aaa', true],
  ['safe_regex partial does not match', { safeRegex: { regex: 'a+' } }, 'aaab', false],
  // Envoy folds ASCII only (absl::EqualsIgnoreCase), so non-ASCII case pairs stay distinct.
  ['ignoreCase folds ASCII only', { exact: 'é', ignoreCase: true }, 'É', false],
];

for (const [name, matcher, value, want] of cases) {
  test(`string.proto StringMatcher: ${name}`, () => {
    assert.equal(compileStringMatcher(matcher, 'm')(value), want);
  });
}

const invalid: [string, StringMatcher, string][] = [
  [
    'ignore_case with safe_regex is rejected',
    { safeRegex: { regex: 'a' }, ignoreCase: true },
    'm.ignoreCase',
  ],
  ['no pattern set', {}, 'm'],
  ['two patterns set', { exact: 'a', prefix: 'a' }, 'm'],
  ['empty prefix (min_len 1)', { prefix: '' }, 'm.prefix'],
  ['empty suffix (min_len 1)', { suffix: '' }, 'm.suffix'],
  ['empty contains (min_len 1)', { contains: '' }, 'm.contains'],
  ['RE2 rejects backreferences', { safeRegex: { regex: '(a)\\1' } }, 'm.safeRegex.regex'],
  ['RE2 rejects lookahead', { safeRegex: { regex: 'a(?=b)' } }, 'm.safeRegex.regex'],
  ['RE2 rejects negative lookahead', { safeRegex: { regex: 'a(?!b)' } }, 'm.safeRegex.regex'],
  ['RE2 rejects lookbehind', { safeRegex: { regex: '(?<=a)b' } }, 'm.safeRegex.regex'],
  ['unbalanced bracket', { safeRegex: { regex: '[' } }, 'm.safeRegex.regex'],
];

for (const [name, matcher, path] of invalid) {
  test(`string.proto StringMatcher config error: ${name}`, () => {
    assert.throws(
      () => compileStringMatcher(matcher, 'm'),
      (e: unknown) =>
        e instanceof MatcherCompileError && e.code === 'DABBA_CONFIG_INVALID' && e.path === path,
    );
  });
}

test('string.proto StringMatcher: invalid regex keeps the RE2 error as cause', () => {
  try {
    compileStringMatcher({ safeRegex: { regex: '(a)\\1' } }, 'm');
    assert.fail('expected a throw');
  } catch (e) {
    assert.ok(e instanceof MatcherCompileError);
    assert.ok(e.cause instanceof Error);
  }
});
