import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type HeaderMatcher, MatchContext } from '../../src/route/match/index.ts';
import { compileHeaderMatcher } from './checked-matchers.ts';
import { ctx } from './helpers.ts';
import { MatcherCompileError } from './matcher-compile-error.ts';

// envoy/config/route/v3/route_components.proto HeaderMatcher, and
// source/common/http/header_utility.cc (values joined with ',', missing-header rules).
type Headers = Record<string, string | string[]>;
const cases: [string, HeaderMatcher, Headers, boolean][] = [
  ['exact_match hit', { name: 'x-v', exactMatch: 'v1' }, { 'x-v': 'v1' }, true],
  ['exact_match miss', { name: 'x-v', exactMatch: 'v1' }, { 'x-v': 'v2' }, false],
  ['name is matched lowercased', { name: 'X-V', exactMatch: 'v1' }, { 'x-v': 'v1' }, true],
  [
    'deprecated exact_match "" matches any present value',
    { name: 'x-v', exactMatch: '' },
    { 'x-v': 'z' },
    true,
  ],
  [
    'string_match exact "" needs an empty value',
    { name: 'x-v', stringMatch: { exact: '' } },
    { 'x-v': 'z' },
    false,
  ],
  ['prefix_match', { name: 'x-v', prefixMatch: 'ab' }, { 'x-v': 'abc' }, true],
  ['suffix_match', { name: 'x-v', suffixMatch: 'bc' }, { 'x-v': 'abc' }, true],
  ['contains_match', { name: 'x-v', containsMatch: 'b' }, { 'x-v': 'abc' }, true],
  ['prefix_match is case sensitive', { name: 'x-v', prefixMatch: 'AB' }, { 'x-v': 'abc' }, false],
  [
    'string_match ignore_case',
    { name: 'x-v', stringMatch: { prefix: 'AB', ignoreCase: true } },
    { 'x-v': 'abc' },
    true,
  ],
  [
    'safe_regex_match full match',
    { name: 'x-v', safeRegexMatch: { regex: '\\d{3}' } },
    { 'x-v': '123' },
    true,
  ],
  // Doc example: "The regex \d{3} does not match the value 1234, so it will match when inverted."
  [
    'safe_regex_match \\d{3} vs 1234',
    { name: 'x-v', safeRegexMatch: { regex: '\\d{3}' } },
    { 'x-v': '1234' },
    false,
  ],
  [
    'invert: \\d{3} inverted matches 1234',
    { name: 'x-v', safeRegexMatch: { regex: '\\d{3}' }, invertMatch: true },
    { 'x-v': '1234' },
    true,
  ],
  // Doc example: "For range [-10,0), route will match for header value -1, but not for 0,
  // somestring, 10.9, -1somestring".
  ['range [-10,0) matches -1', { name: 'r', rangeMatch: { start: -10, end: 0 } }, { r: '-1' }, true],
  ['range [-10,0) excludes 0', { name: 'r', rangeMatch: { start: -10, end: 0 } }, { r: '0' }, false],
  ['range rejects somestring', { name: 'r', rangeMatch: { start: -10, end: 0 } }, { r: 'somestring' }, false],
  ['range rejects 10.9', { name: 'r', rangeMatch: { start: -10, end: 100 } }, { r: '10.9' }, false],
  [
    'range rejects -1somestring',
    { name: 'r', rangeMatch: { start: -10, end: 0 } },
    { r: '-1somestring' },
    false,
  ],
  ['range rejects empty', { name: 'r', rangeMatch: { start: -10, end: 10 } }, { r: '' }, false],
  ['range accepts + sign', { name: 'r', rangeMatch: { start: 0, end: 10 } }, { r: '+5' }, true],
  ['range start inclusive', { name: 'r', rangeMatch: { start: -10, end: 0 } }, { r: '-10' }, true],
  [
    'range int64 bounds as strings',
    { name: 'r', rangeMatch: { start: '9007199254740993', end: '9223372036854775807' } },
    { r: '9007199254740993' },
    true,
  ],
  [
    'range below big start',
    { name: 'r', rangeMatch: { start: '9007199254740993', end: '9223372036854775807' } },
    { r: '9007199254740992' },
    false,
  ],
  [
    'range value overflowing int64',
    { name: 'r', rangeMatch: { start: 0, end: '9223372036854775807' } },
    { r: '99999999999999999999' },
    false,
  ],
  // Doc: "The range [-10,0) will match the value -1, so it will not match when inverted."
  ['invert range', { name: 'r', rangeMatch: { start: -10, end: 0 }, invertMatch: true }, { r: '-1' }, false],
  // present_match: "If specified as false, header match will be performed based on whether the
  // header is absent."
  ['present_match true, present', { name: 'x', presentMatch: true }, { x: '' }, true],
  ['present_match true, absent', { name: 'x', presentMatch: true }, {}, false],
  ['present_match false, absent', { name: 'x', presentMatch: false }, {}, true],
  ['present_match false, present', { name: 'x', presentMatch: false }, { x: 'a' }, false],
  ['present_match true inverted, absent', { name: 'x', presentMatch: true, invertMatch: true }, {}, true],
  [
    'present_match false inverted, present',
    { name: 'x', presentMatch: false, invertMatch: true },
    { x: 'a' },
    true,
  ],
  // "In the absence of any header match specifier, match will default to present_match."
  ['no specifier means present', { name: 'x' }, { x: 'a' }, true],
  ['no specifier, absent', { name: 'x' }, {}, false],
  // treat_missing_header_as_empty doc examples (header2, header3, header4).
  [
    'missing + invert + not treated as empty: no match',
    { name: 'h2', rangeMatch: { start: 0, end: 10 }, invertMatch: true },
    {},
    false,
  ],
  [
    'missing + treated as empty + ^$ regex: match',
    { name: 'h3', stringMatch: { safeRegex: { regex: '^$' } }, treatMissingHeaderAsEmpty: true },
    {},
    true,
  ],
  [
    'missing + not treated as empty + ^$ regex: no match',
    { name: 'h4', stringMatch: { safeRegex: { regex: '^$' } } },
    {},
    false,
  ],
  [
    'missing + treated as empty + range + invert: match',
    { name: 'h1', rangeMatch: { start: 0, end: 10 }, invertMatch: true, treatMissingHeaderAsEmpty: true },
    {},
    true,
  ],
  ['missing + invert exact: no match', { name: 'x', exactMatch: 'a', invertMatch: true }, {}, false],
  ['present + invert exact', { name: 'x', exactMatch: 'a', invertMatch: true }, { x: 'b' }, true],
  // Multiple values are joined with ',' (HeaderUtility::getAllOfHeaderAsString).
  [
    'multiple values joined with ","',
    { name: 'x-role', exactMatch: 'user,admin' },
    { 'x-role': ['user', 'admin'] },
    true,
  ],
  [
    'one of several values alone does not match',
    { name: 'x-role', exactMatch: 'admin' },
    { 'x-role': ['user', 'admin'] },
    false,
  ],
  ['empty value array is absent', { name: 'x', presentMatch: true }, { x: [] }, false],
];

for (const [name, matcher, headers, want] of cases) {
  test(`route_components.proto HeaderMatcher: ${name}`, () => {
    assert.equal(compileHeaderMatcher(matcher, 'h')(ctx('/', headers)), want);
  });
}

// Attention notes in HeaderMatcher's doc: match Host as :authority, the method as :method.
test('route_components.proto HeaderMatcher: pseudo-headers :authority :method :path :scheme', () => {
  const c = ctx('/a/b?x=1', {}, { method: 'POST', authority: 'Reviews:9080', scheme: 'https' });
  assert.equal(compileHeaderMatcher({ name: ':method', exactMatch: 'POST' }, 'h')(c), true);
  assert.equal(compileHeaderMatcher({ name: ':authority', exactMatch: 'Reviews:9080' }, 'h')(c), true);
  assert.equal(compileHeaderMatcher({ name: ':scheme', exactMatch: 'https' }, 'h')(c), true);
  // :path is the whole request target, query included.
  assert.equal(compileHeaderMatcher({ name: ':path', exactMatch: '/a/b?x=1' }, 'h')(c), true);
  assert.equal(compileHeaderMatcher({ name: ':path', exactMatch: '/a/b' }, 'h')(c), false);
});

test('route_components.proto HeaderMatcher: host is folded into :authority', () => {
  const c = ctx('/', { host: 'reviews' }, { authority: 'reviews' });
  assert.equal(compileHeaderMatcher({ name: 'host', presentMatch: true }, 'h')(c), false);
  assert.equal(compileHeaderMatcher({ name: ':authority', exactMatch: 'reviews' }, 'h')(c), true);
});

test('route_components.proto HeaderMatcher: header lookup may be a function', () => {
  const view = {
    method: 'GET',
    scheme: 'http',
    authority: 'a',
    path: '/',
    query: '',
    headers: (n: string) => (n === 'x-v' ? ['a', 'b'] : undefined),
  };
  assert.equal(compileHeaderMatcher({ name: 'x-v', exactMatch: 'a,b' }, 'h')(new MatchContext(view)), true);
});

const invalid: [string, HeaderMatcher, string][] = [
  ['empty name', { name: '' }, 'h.name'],
  ['two specifiers', { name: 'x', exactMatch: 'a', prefixMatch: 'a' }, 'h'],
  [
    'invalid regex names the field',
    { name: 'x', safeRegexMatch: { regex: '(?=a)' } },
    'h.safeRegexMatch.regex',
  ],
  [
    'string_match regex names the field',
    { name: 'x', stringMatch: { safeRegex: { regex: '(a)\\1' } } },
    'h.stringMatch.safeRegex.regex',
  ],
  ['empty prefix_match', { name: 'x', prefixMatch: '' }, 'h.prefixMatch'],
];
for (const [name, matcher, path] of invalid) {
  test(`route_components.proto HeaderMatcher config error: ${name}`, () => {
    assert.throws(
      () => compileHeaderMatcher(matcher, 'h'),
      (e: unknown) =>
        e instanceof MatcherCompileError && e.code === 'DABBA_CONFIG_INVALID' && e.path === path,
    );
  });
}
