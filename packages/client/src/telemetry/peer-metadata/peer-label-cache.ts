import type { IstioSourceLabels } from '../istio-peer-labels.ts';
import { decodePeerMetadata } from './decode-peer-metadata.ts';
import { istioPeerSourceLabels, UNKNOWN_SOURCE } from './peer-source-labels.ts';

/** Distinct peers (by their `source_*` labels) one cache interns by default. */
export const DEFAULT_MAX_PEERS = 100;

/**
 * Peer metadata header values -> the interned entry of the peer they describe. Label values now
 * come from request data, so the number of series is bounded here: the first `maxPeers` distinct
 * peers (by `source_*` labels) get their own entry; any further peer, like a request with no or
 * unreadable metadata, gets the `unknown` entry. A header value seen before costs one map read.
 */
export class PeerLabelCache<T> {
  readonly maxPeers: number;
  readonly unknown: T;
  readonly #make: (source: IstioSourceLabels) => T;
  /** By `x-envoy-peer-metadata` value; cleared when full (pod names make values vary). */
  readonly #byHeader = new Map<string, T>();
  readonly #maxHeaders: number;
  /** By label values: at most `maxPeers` entries, never evicted (series are cumulative). */
  readonly #byPeer = new Map<string, T>();

  constructor(maxPeers: number, make: (source: IstioSourceLabels) => T) {
    this.maxPeers = maxPeers;
    this.#make = make;
    this.unknown = make(UNKNOWN_SOURCE);
    this.#maxHeaders = Math.max(64, maxPeers * 4);
  }

  /** The entry of the peer a header value describes; `unknown` when absent, invalid or over budget. */
  get(header: string | undefined): T {
    if (header === undefined || header === '') return this.unknown;
    const hit = this.#byHeader.get(header);
    if (hit !== undefined) return hit;
    const entry = this.#resolve(header);
    if (this.#byHeader.size >= this.#maxHeaders) this.#byHeader.clear();
    this.#byHeader.set(header, entry);
    return entry;
  }

  /** How many distinct peers have an entry of their own. */
  get peerCount(): number {
    return this.#byPeer.size;
  }

  #resolve(header: string): T {
    const peer = decodePeerMetadata(header);
    if (peer === undefined) return this.unknown;
    const source = istioPeerSourceLabels(peer);
    const key = JSON.stringify(Object.values(source));
    const known = this.#byPeer.get(key);
    if (known !== undefined) return known;
    if (key === JSON.stringify(Object.values(UNKNOWN_SOURCE))) return this.unknown;
    if (this.#byPeer.size >= this.maxPeers) return this.unknown;
    const entry = this.#make(source);
    this.#byPeer.set(key, entry);
    return entry;
  }
}
