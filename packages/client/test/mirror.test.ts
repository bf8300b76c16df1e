/** Envoy's `-shadow` host rule (shadow_writer_impl.cc shadowAppendedHost, HeaderUtility::getPortStart). */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { shadowAuthority } from '../src/dispatch/mirror.ts';

it('appends -shadow to the host part and keeps the port, IPv6 literals included', () => {
  assert.equal(shadowAuthority('reviews:9080'), 'reviews-shadow:9080');
  assert.equal(shadowAuthority('reviews'), 'reviews-shadow');
  assert.equal(
    shadowAuthority('reviews.default.svc.cluster.local:80'),
    'reviews.default.svc.cluster.local-shadow:80',
  );
  assert.equal(shadowAuthority('[::1]:8080'), '[::1]-shadow:8080');
  assert.equal(shadowAuthority('[::1]'), '[::1]-shadow');
});
