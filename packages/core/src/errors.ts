/**
 * The base of every error Dabba throws or reports, and the configuration error every package
 * raises. Every error carries a stable `code`; match on it, never on the message. The base is
 * recognised across copies of this package by a registered symbol, so `err instanceof
 * DabbaError` holds for an error from any Dabba package, whichever copy loaded it.
 */

const DABBA_ERROR = Symbol.for('dabba.error');

/** Codes of the errors defined here. Never reused, never renamed. */
export const CoreErrorCode = {
  /** Configuration (options, a resource, a source's input) failed validation. */
  CONFIG_INVALID: 'DABBA_CONFIG_INVALID',
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
      code: options.code ?? CoreErrorCode.CONFIG_INVALID,
      cause: options.cause,
    });
    this.issues = Object.freeze([...issues]);
  }
}
