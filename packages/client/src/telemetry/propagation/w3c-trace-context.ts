/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent` and `tracestate`
 * headers. Parsing follows the spec's processing model: a version this code does not know is
 * parsed as version 00 when its first 55 characters have that shape; version `ff` and any
 * malformed value are invalid; a `tracestate` that breaks the list rules is dropped while the
 * `traceparent` is kept.
 */
import { createTraceState, type SpanContext, type TraceState } from '@opentelemetry/api';
import { HEX_INVALID, HEX_NONZERO, hexRange } from './hex-ids.ts';

/** traceparent: `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`. */
const VERSION_00_LENGTH = 55;
const DASH = 0x2d;
const ZERO = 0x30;
const NINE = 0x39;
const F = 0x66;

/** The `sampled` bit of trace-flags. */
export const FLAG_SAMPLED = 0x01;

/** The remote span context of a `traceparent`, or `undefined` when the header is invalid. */
export function parseTraceparent(value: string | undefined): SpanContext | undefined {
  if (value === undefined) return undefined;
  const header = value.trim();
  if (header.length < VERSION_00_LENGTH) return undefined;
  // Checked in place, sliced only once valid (hex-ids.ts: reading a substring costs more).
  if (hexRange(header, 0, 2) === HEX_INVALID) return undefined;
  const v0 = header.charCodeAt(0);
  const v1 = header.charCodeAt(1);
  if (v0 === F && v1 === F) return undefined;
  // Version 00 is exactly 55 characters; a later version may append fields after a dash.
  if (
    v0 === ZERO && v1 === ZERO
      ? header.length !== VERSION_00_LENGTH
      : header.length > VERSION_00_LENGTH && header.charCodeAt(55) !== DASH
  )
    return undefined;
  if (header.charCodeAt(2) !== DASH || header.charCodeAt(35) !== DASH || header.charCodeAt(52) !== DASH)
    return undefined;
  if (
    hexRange(header, 3, 35) !== HEX_NONZERO ||
    hexRange(header, 36, 52) !== HEX_NONZERO ||
    hexRange(header, 53, 55) === HEX_INVALID
  )
    return undefined;
  // Version 00 defines only the sampled bit (the low bit of the last hex digit); other bits are
  // not propagated (spec 3.2.2.5).
  const last = header.charCodeAt(54);
  const sampled = (last <= NINE ? last - ZERO : last - 87) & FLAG_SAMPLED;
  return { traceId: header.slice(3, 35), spanId: header.slice(36, 52), traceFlags: sampled, isRemote: true };
}

/** `traceparent` version 00 for the given ids. */
export function formatTraceparent(traceId: string, spanId: string, sampled: boolean): string {
  return `00-${traceId}-${spanId}-${sampled ? '01' : '00'}`;
}

/** A list member's key: simple-key or tenant@system (W3C Trace Context 3.3.1.3.1). */
const KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
/** A value: printable ASCII except `,` and `=`, no trailing space, at most 256 characters. */
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;
/** The spec's limit on list members. */
const MAX_MEMBERS = 32;

/**
 * A `tracestate` as OpenTelemetry's TraceState, or `undefined` when absent, empty or invalid
 * (bad key or value, a duplicate key, more than 32 members): the spec discards the whole header
 * then, and keeps the `traceparent`.
 */
export function parseTracestate(value: string | undefined): TraceState | undefined {
  if (value === undefined) return undefined;
  const keys = new Set<string>();
  const members: string[] = [];
  for (const raw of value.split(',')) {
    const member = raw.trim();
    if (member === '') continue; // empty list members are allowed and ignored
    const eq = member.indexOf('=');
    if (eq <= 0) return undefined;
    const key = member.slice(0, eq);
    const val = member.slice(eq + 1);
    if (!KEY.test(key) || !VALUE.test(val) || keys.has(key)) return undefined;
    keys.add(key);
    members.push(member);
  }
  if (members.length === 0 || members.length > MAX_MEMBERS) return undefined;
  return createTraceState(members.join(','));
}
