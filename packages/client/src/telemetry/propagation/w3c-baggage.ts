/**
 * W3C Baggage (https://www.w3.org/TR/baggage/): `baggage: key1=value1;prop,key2=value2`, values
 * percent-encoded. Invalid members are skipped, as OpenTelemetry's W3C baggage propagator skips
 * them; limits are the spec's minimums a platform must propagate (64 members, 8192 bytes), and a
 * header over them is cut to whole members that fit.
 */
import {
  type Baggage,
  type BaggageEntry,
  baggageEntryMetadataFromString,
  propagation,
} from '@opentelemetry/api';

const MAX_MEMBERS = 64;
const MAX_BYTES = 8192;
/** RFC 7230 token characters (the key's grammar). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** The baggage a header carries, or `undefined` when absent or empty. */
export function parseBaggage(value: string | undefined): Baggage | undefined {
  if (value === undefined || value.length === 0) return undefined;
  const entries: Record<string, BaggageEntry> = {};
  let count = 0;
  let bytes = 0;
  for (const raw of value.split(',')) {
    if (count >= MAX_MEMBERS) break;
    bytes += raw.length + (count > 0 ? 1 : 0);
    if (bytes > MAX_BYTES) break;
    const member = raw.trim();
    if (member === '') continue;
    const semi = member.indexOf(';');
    const pair = semi < 0 ? member : member.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    if (!TOKEN.test(key)) continue;
    let decoded: string;
    try {
      decoded = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      continue;
    }
    const entry: BaggageEntry =
      semi < 0
        ? { value: decoded }
        : { value: decoded, metadata: baggageEntryMetadataFromString(member.slice(semi + 1).trim()) };
    entries[key] = entry;
    count++;
  }
  return count === 0 ? undefined : propagation.createBaggage(entries);
}

/** The `baggage` header for `baggage`, or `undefined` when it holds no entry. */
export function formatBaggage(baggage: Baggage): string | undefined {
  let out = '';
  let count = 0;
  for (const [key, entry] of baggage.getAllEntries()) {
    if (count >= MAX_MEMBERS || !TOKEN.test(key)) continue;
    const meta = entry.metadata?.toString();
    const member = `${key}=${encodeURIComponent(entry.value)}${meta ? `;${meta}` : ''}`;
    if (out.length + member.length + 1 > MAX_BYTES) break;
    out = count === 0 ? member : `${out},${member}`;
    count++;
  }
  return count === 0 ? undefined : out;
}
