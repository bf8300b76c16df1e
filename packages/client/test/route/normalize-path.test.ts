/**
 * Path normalization before routing, as Envoy's connection manager does it (conn_manager_utility.cc
 * maybeNormalizePath; path_utility.cc canonicalPath, mergeSlashes, unescapeSlashes; the cases
 * of Envoy's path_utility_test.cc) under the four settings Istio's MeshConfig `pathNormalization`
 * maps to (listener_builder.go buildHTTPConnectionManager).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalPath,
  NO_PATH_NORMALIZATION,
  normalizeRequestPath,
  type PathNormalization,
} from '../../src/route/normalize-path.ts';

const BASE: PathNormalization = {
  normalizePath: true,
  mergeSlashes: false,
  escapedSlashes: 'KEEP_UNCHANGED',
};
const MERGE: PathNormalization = { ...BASE, mergeSlashes: true };
const DECODE_AND_MERGE: PathNormalization = { ...MERGE, escapedSlashes: 'UNESCAPE_AND_FORWARD' };

describe('canonicalPath (Envoy PathUtil::canonicalPath)', () => {
  const cases: [string, string | undefined][] = [
    ['/a/b/../c', '/a/c'],
    ['/./admin', '/admin'],
    ['/x/../admin', '/admin'],
    ['/../../admin', '/admin'],
    ['/a/b/..', '/a/'],
    ['/a/.', '/a/'],
    ['/..', '/'],
    ['', '/'],
    ['admin', '/admin'],
    ['/%61dmin', '/admin'],
    ['/a/b/%2E%2E/c', '/a/c'],
    ['/a/b/%2e./c', '/a/c'],
    ['/a/..\\c', '/c'],
    ['/a\\b', '/a/b'],
    ['/%5c%25', '/%5c%25'],
    ['/a/%2F%2f/c', '/a/%2F%2f/c'],
    ['/%7e%2D%5F', '/~-_'],
    ['/100%', '/100%'],
    ['/%zz', '/%zz'],
    ['/a b"<>^`{|}', '/a%20b%22%3C%3E%5E%60%7B%7C%7D'],
    ['/\u0001\u007f', '/%01%7F'],
    ['/é/😀', '/%C3%A9/%F0%9F%98%80'],
    ['//admin', '//admin'],
    ['/xyz/.%00../abc', undefined],
    ['/xyz/AAAAA%%0000/abc', undefined],
    ['/a\u0000b', undefined],
    // Chromium's CheckForNestedEscapes (url_canon_path.cc): decoding must not create an escape.
    ['/%%32%65', '/%252e'],
    ['/%2%65', '/%252e'],
    ['/%%326', '/%2526'],
    ['/a/%%32%65%%32%65/admin', '/a/%252e%252e/admin'],
    ['/%%41', '/%A'],
    ['/%%4G', '/%%4G'],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} -> ${expected === undefined ? 'refused' : JSON.stringify(expected)}`, () => {
      assert.equal(canonicalPath(input), expected);
    });
  }
});

describe('normalizeRequestPath under each Istio setting', () => {
  it('BASE (Istio default): dot segments and unreserved escapes, the query untouched, slashes not merged', () => {
    assert.equal(normalizeRequestPath('/x/../admin?next=/../y', BASE), '/admin?next=/../y');
    assert.equal(normalizeRequestPath('/%61dmin', BASE), '/admin');
    assert.equal(normalizeRequestPath('//admin', BASE), '//admin');
    assert.equal(normalizeRequestPath('/a%2Fb', BASE), '/a%2Fb');
  });

  it('an unchanged path comes back as the same string (no copy on the request path)', () => {
    const path = '/reviews/0?x=1';
    assert.equal(normalizeRequestPath(path, BASE), path);
  });

  it('MERGE_SLASHES: runs of slashes merge before the query only', () => {
    assert.equal(normalizeRequestPath('//admin', MERGE), '/admin');
    assert.equal(normalizeRequestPath('/a//b?a=///c', MERGE), '/a/b?a=///c');
    assert.equal(normalizeRequestPath('//a/?b', MERGE), '/a/?b');
  });

  it('DECODE_AND_MERGE_SLASHES: %2F and %5C (either case) decode, then normalize and merge', () => {
    assert.equal(normalizeRequestPath('/a%2Fb', DECODE_AND_MERGE), '/a/b');
    assert.equal(normalizeRequestPath('/a%2f..%2Fadmin', DECODE_AND_MERGE), '/admin');
    assert.equal(normalizeRequestPath('/a%5Cb', DECODE_AND_MERGE), '/a/b');
    assert.equal(normalizeRequestPath('/a?x=%2F', DECODE_AND_MERGE), '/a?x=%2F');
  });

  it('REJECT_REQUEST refuses an escaped slash; UNESCAPE_AND_REDIRECT redirects to the normalized path', () => {
    assert.equal(normalizeRequestPath('/a%2Fb', { ...BASE, escapedSlashes: 'REJECT_REQUEST' }), undefined);
    assert.equal(normalizeRequestPath('/ab', { ...BASE, escapedSlashes: 'REJECT_REQUEST' }), '/ab');
    assert.deepEqual(
      normalizeRequestPath('/x/..%2Fadmin', { ...BASE, escapedSlashes: 'UNESCAPE_AND_REDIRECT' }),
      {
        redirect: '/admin',
      },
    );
  });

  it('NONE leaves every path as it is, but a fragment is refused under any setting (http_reject_path_with_fragment)', () => {
    assert.equal(normalizeRequestPath('/x/../admin', NO_PATH_NORMALIZATION), '/x/../admin');
    assert.equal(normalizeRequestPath('/a#b', NO_PATH_NORMALIZATION), undefined);
    assert.equal(normalizeRequestPath('/a?b#c', BASE), undefined);
  });

  it('a NUL in the path is refused', () => {
    assert.equal(normalizeRequestPath('/a%00', BASE), undefined);
  });
});
