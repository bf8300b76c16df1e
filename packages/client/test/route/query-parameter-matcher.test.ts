import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { QueryParameterMatcher } from '../../src/route/match/index.ts';
import { compileQueryParameterMatcher } from './checked-matchers.ts';
import { ctx } from './helpers.ts';

// route_components.proto QueryParameterMatcher ("treats the query string of a request's :path
// header as an ampersand-separated list of keys and/or key=value elements"), and
// router/config_utility.cc + http/utility.cc QueryParamsMulti::parseQueryString: raw values
// (no percent-decoding), first value wins, present_match compares presence (Envoy >= 1.34).
const cases: [string, QueryParameterMatcher, string, boolean][] = [
  ['string_match exact', { name: 'debug', stringMatch: { exact: '1' } }, '/p?debug=1', true],
  ['string_match miss', { name: 'debug', stringMatch: { exact: '1' } }, '/p?debug=2', false],
  ['absent parameter never string-matches', { name: 'debug', stringMatch: { exact: '' } }, '/p?x=1', false],
  ['key without = has empty value', { name: 'debug', stringMatch: { exact: '' } }, '/p?debug', true],
  ['first value wins', { name: 'a', stringMatch: { exact: '1' } }, '/p?a=1&a=2', true],
  ['later value ignored', { name: 'a', stringMatch: { exact: '2' } }, '/p?a=1&a=2', false],
  ['values are not percent-decoded', { name: 'q', stringMatch: { exact: 'a b' } }, '/p?q=a%20b', false],
  ['raw encoded value matches', { name: 'q', stringMatch: { exact: 'a%20b' } }, '/p?q=a%20b', true],
  ['names are not decoded either', { name: 'a b', presentMatch: true }, '/p?a%20b=1', false],
  ['value keeps later = signs', { name: 'a', stringMatch: { exact: 'b=c' } }, '/p?a=b=c', true],
  ['names are case sensitive', { name: 'Debug', presentMatch: true }, '/p?debug=1', false],
  ['present_match true, present', { name: 'debug', presentMatch: true }, '/p?debug', true],
  ['present_match true, absent', { name: 'debug', presentMatch: true }, '/p', false],
  ['present_match false, absent', { name: 'debug', presentMatch: false }, '/p?x=1', true],
  ['present_match false, present', { name: 'debug', presentMatch: false }, '/p?debug=1', false],
  ['no specifier is a presence check', { name: 'debug' }, '/p?debug=0', true],
  [
    'string_match ignore_case',
    { name: 'm', stringMatch: { exact: 'YES', ignoreCase: true } },
    '/p?m=yes',
    true,
  ],
  ['empty pieces are skipped', { name: 'b', stringMatch: { exact: '2' } }, '/p?a=1&&b=2', true],
];

for (const [name, matcher, url, want] of cases) {
  test(`route_components.proto QueryParameterMatcher: ${name}`, () => {
    assert.equal(compileQueryParameterMatcher(matcher, 'q')(ctx(url)), want);
  });
}

test('route_components.proto QueryParameterMatcher: query parsed once per request', () => {
  const c = ctx('/p?a=1&b=2');
  const a = compileQueryParameterMatcher({ name: 'a', presentMatch: true }, 'q');
  const b = compileQueryParameterMatcher({ name: 'b', presentMatch: true }, 'q');
  assert.equal(a(c) && b(c) && a(c), true);
});
