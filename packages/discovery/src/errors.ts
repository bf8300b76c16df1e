/**
 * Errors of the configuration side of Dabba. Every error carries a stable `code`; match on it,
 * never on the message. The base class is shared across packages by a registered symbol, so
 * `err instanceof DabbaError` holds for errors thrown by any Dabba package.
 */

const DABBA_ERROR = Symbol.for('dabba.error');

/** Stable error codes of @dabba/discovery. Never reused, never renamed. */
export const DiscoveryErrorCode = {
  /** A configuration source produced input that failed validation or translation. */
  CONFIG_INVALID: 'DABBA_CONFIG_INVALID',
  /** A configuration source could not be read (missing file, permission, I/O). */
  CONFIG_UNREADABLE: 'DABBA_CONFIG_UNREADABLE',
  /** A protobuf/xDS payload could not be decoded or encoded. */
  XDS_DECODE: 'DABBA_XDS_DECODE',
} as const;

export interface DabbaErrorOptions {
  readonly code: string;
  /** Envoy response flag (`NR`, `UH`, `UO`, ...), where Envoy has one for this failure. */
  readonly responseFlag?: string | undefined;
  readonly cause?: unknown;
}

/** Base of every error Dabba throws or reports. */
export class DabbaError extends Error {
  readonly code: string;
  readonly responseFlag: string | undefined;

  constructor(message: string, options: DabbaErrorOptions) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code;
    this.responseFlag = options.responseFlag;
    Object.defineProperty(this, DABBA_ERROR, { value: true });
  }

  override get name(): string {
    return this.constructor.name;
  }

  // `this` is the class `instanceof` was asked about: subclasses keep ordinary prototype checks.
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this !== DabbaError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return typeof value === 'object' && value !== null && DABBA_ERROR in value;
  }
}

/** Identifies a configuration resource: Istio kind/namespace/name, or an xDS type and name. */
export interface ResourceRef {
  readonly kind: string;
  readonly namespace?: string | undefined;
  readonly name: string;
}

/** One problem found in configuration, located as precisely as the source allows. */
export interface ConfigIssue {
  /** Where the input came from: a file path, an xDS server, a constructor option. */
  readonly source: string;
  /** 1-based line in `source`, when the source is a text file. */
  readonly line?: number | undefined;
  readonly resource?: ResourceRef | undefined;
  /** Field path inside the resource, e.g. `spec.http[0].route[1].weight`. */
  readonly path: string;
  readonly message: string;
  /**
   * Set on a notice that concerns security: something the configuration asks for that is not
   * enforced here (an AuthorizationPolicy), or traffic that will be refused (Istio mTLS without
   * a workload identity). Hosts log these as warnings, once per resource.
   */
  readonly severity?: 'warning' | undefined;
}

/** Formats one issue as `source:line kind/namespace/name field: message`. */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line === undefined ? issue.source : `${issue.source}:${issue.line}`;
  const r = issue.resource;
  const resource = r ? ` ${r.kind}/${r.namespace ? `${r.namespace}/` : ''}${r.name}` : '';
  const path = issue.path ? ` ${issue.path}` : '';
  return `${where}${resource}${path}: ${issue.message}`;
}

/**
 * Configuration that cannot be accepted. Lists every problem found, each with source, line,
 * resource and field path. A source that reports this error keeps serving its last good snapshot.
 */
export class ConfigError extends DabbaError {
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[], options: { cause?: unknown; code?: string } = {}) {
    const head = issues.length === 1 ? 'invalid configuration' : `${issues.length} configuration problems`;
    super(`${head}:\n  ${issues.map(formatIssue).join('\n  ')}`, {
      code: options.code ?? DiscoveryErrorCode.CONFIG_INVALID,
      cause: options.cause,
    });
    this.issues = Object.freeze([...issues]);
  }
}

/** A protobuf/xDS payload that could not be decoded or encoded. */
export class XdsDecodeError extends DabbaError {
  readonly typeUrl: string | undefined;

  constructor(message: string, options: { typeUrl?: string | undefined; cause?: unknown } = {}) {
    super(message, { code: DiscoveryErrorCode.XDS_DECODE, cause: options.cause });
    this.typeUrl = options.typeUrl;
  }
}
