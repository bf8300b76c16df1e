import type { Dispatcher } from 'undici';
import type { LocalPeerMetadata } from './encode-peer-metadata.ts';
import { PEER_METADATA_HEADER, PEER_METADATA_ID_HEADER } from './peer-metadata-headers.ts';

type RawHeaders = Dispatcher.DispatchOptions['headers'];

/** Whether a header name is one of the two exchange headers, in any case. */
function isExchangeHeader(name: unknown): boolean {
  if (typeof name !== 'string') return false;
  const n = name.length;
  if (n !== PEER_METADATA_HEADER.length && n !== PEER_METADATA_ID_HEADER.length) return false;
  const lower = name.toLowerCase();
  return lower === PEER_METADATA_HEADER || lower === PEER_METADATA_ID_HEADER;
}

/**
 * The request's headers with this workload's exchange headers set (any the caller sent replaced,
 * as Envoy's `setReference` does), in the shape undici was given: a flat array or a plain object
 * is copied as it is, without indexing every header (a tenth of the cost of a full header
 * record). `undefined` for other shapes (iterables of pairs), which the caller handles with a
 * header record.
 */
export function withPeerMetadataHeaders(raw: RawHeaders, local: LocalPeerMetadata): RawHeaders | undefined {
  if (raw === undefined || raw === null) {
    return { [PEER_METADATA_HEADER]: local.value, [PEER_METADATA_ID_HEADER]: local.id };
  }
  if (Array.isArray(raw)) {
    if (raw.length > 0 && typeof raw[0] !== 'string') return undefined;
    const out: string[] = [];
    for (let i = 0; i + 1 < raw.length; i += 2) {
      if (!isExchangeHeader(raw[i])) out.push(raw[i] as string, raw[i + 1] as string);
    }
    out.push(PEER_METADATA_HEADER, local.value, PEER_METADATA_ID_HEADER, local.id);
    return out;
  }
  if (typeof (raw as Iterable<unknown>)[Symbol.iterator] === 'function') return undefined;
  const out: Record<string, string | string[] | undefined> = {
    ...(raw as Record<string, string | string[]>),
  };
  for (const k in out) if (isExchangeHeader(k)) delete out[k];
  out[PEER_METADATA_HEADER] = local.value;
  out[PEER_METADATA_ID_HEADER] = local.id;
  return out;
}
