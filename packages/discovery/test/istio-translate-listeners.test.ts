/**
 * Outbound listeners carry the HttpConnectionManager path settings istiod derives from MeshConfig
 * `pathNormalization` (pilot/pkg/networking/core/listener_builder.go buildHTTPConnectionManager):
 * istiod always writes the escaped-slashes action (KEEP_UNCHANGED unless decoding); NONE sets no more, BASE (Istio's default) `normalize_path`, MERGE_SLASHES adds `merge_slashes`,
 * DECODE_AND_MERGE_SLASHES adds `path_with_escaped_slashes_action: UNESCAPE_AND_FORWARD`.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { get, REVIEWS, translateYaml } from './fixtures/istio-helpers.ts';

// biome-ignore lint/suspicious/noExplicitAny: proto3 JSON is walked freely in assertions
function hcmOf(listener: any): Record<string, unknown> {
  return listener.filterChains[0].filters[0].typedConfig;
}

describe('outbound listener path normalization', () => {
  const cases = [
    ['NONE', { pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' }],
    ['BASE', { normalizePath: true, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' }],
    [
      'MERGE_SLASHES',
      { normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' },
    ],
    [
      'DECODE_AND_MERGE_SLASHES',
      { normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' },
    ],
  ] as const;
  for (const [setting, expected] of cases) {
    it(`${setting} -> ${JSON.stringify(expected)}`, () => {
      const t = translateYaml(REVIEWS, {}, { pathNormalization: setting });
      const hcm = hcmOf(get(t.listeners, '0.0.0.0_9080'));
      const actual: Record<string, unknown> = {};
      for (const key of ['normalizePath', 'mergeSlashes', 'pathWithEscapedSlashesAction'])
        if (hcm[key] !== undefined) actual[key] = hcm[key];
      assert.deepEqual(actual, expected);
    });
  }

  it('the default is BASE', () => {
    assert.equal(hcmOf(get(translateYaml(REVIEWS).listeners, '0.0.0.0_9080')).normalizePath, true);
  });
});
