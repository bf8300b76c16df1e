/**
 * The contract between configuration sources and the data plane. A source turns its input
 * (Istio YAML, an xDS stream, ...) into snapshots and reports problems; it never hands over a
 * snapshot that failed validation, so the data plane keeps serving the last good one.
 */
import type { ConfigError, ConfigIssue } from './errors.ts';
import type { Snapshot } from './snapshot.ts';
import type { Workload } from './workload.ts';

/**
 * What became of a snapshot handed to the data plane: in force (`applied`), refused with the
 * previous one still serving (`rejected`; the error's issues name each resource), or replaced
 * by a newer snapshot, or by close(), before it could apply (`superseded`).
 */
export type SnapshotOutcome =
  | { readonly status: 'applied' }
  | { readonly status: 'rejected'; readonly error: ConfigError }
  | { readonly status: 'superseded' };

export interface SnapshotListener {
  /**
   * A new complete, validated snapshot. When the source passes `settle`, the data plane calls
   * it once with the snapshot's outcome, so that a source can ACK or NACK what it delivered.
   */
  onSnapshot(snapshot: Snapshot, settle?: (outcome: SnapshotOutcome) => void): void;
  /** Input was rejected; the previous snapshot (if any) stays in force. */
  onError(error: ConfigError): void;
  /** Something was accepted but skipped or ignored. */
  onNotice(notice: ConfigIssue): void;
}

export interface ConfigSubscription {
  /** Stops watching and releases the source's resources. */
  close(): Promise<void>;
}

/** A place configuration comes from. Created by factories such as `istioFiles()`. */
export interface ConfigSource {
  /** Names the source in errors and in `explain()`, e.g. `istio-files:./mesh`. */
  readonly name: string;
  /** Starts delivering snapshots for `workload` to `listener`. */
  subscribe(workload: Workload, listener: SnapshotListener): ConfigSubscription;
}
