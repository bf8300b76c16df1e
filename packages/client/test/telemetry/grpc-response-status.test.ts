/**
 * gRPC detection as istio_stats.cc does it: Envoy's Grpc::Common::isGrpcRequestHeaders,
 * getGrpcStatus (InvalidCode -1 outside 0..16) and Grpc::Utility::httpToGrpcStatus.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  grpcStatusOf,
  httpToGrpcStatus,
  isGrpcContentType,
  isGrpcRequest,
} from '../../src/telemetry/grpc-response-status.ts';

test('isGrpcContentType: application/grpc alone or followed by + or ;', () => {
  for (const [value, expected] of [
    ['application/grpc', true],
    ['application/grpc+proto', true],
    ['application/grpc;charset=utf-8', true],
    ['application/grpc-web', false],
    ['application/grpcx', false],
    ['application/json', false],
    [undefined, false],
  ] as const) {
    assert.equal(isGrpcContentType(value), expected, String(value));
  }
});

test('isGrpcRequest reads every header form undici accepts, names case-insensitively', () => {
  assert.equal(isGrpcRequest({ 'Content-Type': 'application/grpc' }), true);
  assert.equal(isGrpcRequest({ 'content-type': ['application/grpc+proto'] }), true);
  assert.equal(isGrpcRequest(['CONTENT-TYPE', 'application/grpc']), true);
  assert.equal(isGrpcRequest([['content-type', 'application/grpc']]), true);
  assert.equal(isGrpcRequest(new Map([['content-type', 'application/grpc']])), true);
  assert.equal(isGrpcRequest({ 'content-type': 'text/plain' }), false);
  assert.equal(isGrpcRequest(undefined), false);
  assert.equal(isGrpcRequest(null), false);
});

test('grpcStatusOf: absent, 0..16, and -1 for anything else (Envoy InvalidCode)', () => {
  const raw = (v: string) => [Buffer.from('grpc-status'), Buffer.from(v)];
  assert.equal(grpcStatusOf(null), undefined);
  assert.equal(grpcStatusOf([Buffer.from('content-type'), Buffer.from('application/grpc')]), undefined);
  assert.equal(grpcStatusOf(raw('0')), '0');
  assert.equal(grpcStatusOf(raw('16')), '16');
  assert.equal(grpcStatusOf(raw('014')), '14');
  assert.equal(grpcStatusOf(raw('17')), '-1');
  assert.equal(grpcStatusOf(raw('-3')), '-1');
  assert.equal(grpcStatusOf(raw('abc')), '-1');
  assert.equal(grpcStatusOf({ 'grpc-status': '5' }), '5');
});

test('httpToGrpcStatus follows Grpc::Utility::httpToGrpcStatus', () => {
  const table: [number, string][] = [
    [400, '13'],
    [401, '16'],
    [403, '7'],
    [404, '12'],
    [429, '14'],
    [502, '14'],
    [503, '14'],
    [504, '14'],
    [500, '2'],
    [200, '2'],
  ];
  for (const [status, grpc] of table) assert.equal(httpToGrpcStatus(status), grpc, String(status));
});
