/**
 * Errors of the configuration side of Dabba. The base (`DabbaError`), `ConfigError` and
 * `ConfigIssue` live in @dabba/core, shared by every package; this file adds the codes and
 * errors of configuration sources and the xDS codec. Match on `code`, never on the message.
 */
import { CoreErrorCode, DabbaError } from '@dabba/core';

export {
  ConfigError,
  type ConfigIssue,
  DabbaError,
  type DabbaErrorOptions,
  formatIssue,
  type ResourceRef,
} from '@dabba/core';

/** Stable error codes of @dabba/discovery. Never reused, never renamed. */
export const DiscoveryErrorCode = {
  /** A configuration source produced input that failed validation or translation. */
  CONFIG_INVALID: CoreErrorCode.CONFIG_INVALID,
  /** A configuration source could not be read (missing file, permission, I/O). */
  CONFIG_UNREADABLE: 'DABBA_CONFIG_UNREADABLE',
  /** A protobuf/xDS payload could not be decoded or encoded. */
  XDS_DECODE: 'DABBA_XDS_DECODE',
} as const;

/** A protobuf/xDS payload that could not be decoded or encoded. */
export class XdsDecodeError extends DabbaError {
  readonly typeUrl: string | undefined;

  constructor(message: string, options: { typeUrl?: string | undefined; cause?: unknown } = {}) {
    super(message, { code: DiscoveryErrorCode.XDS_DECODE, cause: options.cause });
    this.typeUrl = options.typeUrl;
  }
}
