/**
 * The `node:diagnostics_channel` names Dabba publishes on, as undici publishes its own
 * (`undici:request:create`, ...): APM tools subscribe to observe requests and configuration
 * without a hook in Dabba's API. Each message is documented where it is published.
 */
export const DabbaChannel = {
  /** A request entered the mesh (its record, before routing). */
  REQUEST_START: 'dabba:request:start',
  /** A request ended, with its outcome (status, response flags, cluster, duration). */
  REQUEST_END: 'dabba:request:end',
  /** A configuration snapshot was applied and serves now. */
  CONFIG_APPLIED: 'dabba:config:applied',
  /** A configuration change was rejected; the previous snapshot keeps serving. */
  CONFIG_REJECTED: 'dabba:config:rejected',
} as const;
