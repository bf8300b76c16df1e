import { debuglog } from 'node:util';
/**
 * Public options of `createMesh()` and their resolution into a frozen, fully specified object.
 * Options are validated once, at construction; every problem is reported together.
 */
import {
  type ConfigError,
  ConfigError as ConfigErrorClass,
  type ConfigIssue,
  type ConfigSource,
  resolveWorkload,
  type Workload,
  type WorkloadOptions,
} from '@dabba/discovery';

/** Receives what the mesh has to say about its configuration. */
export interface MeshLogger {
  /** Rejected configuration (the previous snapshot keeps serving). */
  error(message: string): void;
  /** Accepted configuration with parts skipped or ignored. */
  notice(message: string): void;
}

export interface MeshOptions {
  /** The workload this process is (namespace, labels, locality...). Defaults: Istio's. */
  readonly workload?: WorkloadOptions;
  /** Where configuration comes from, e.g. `istioFiles('./mesh')`. Required. */
  readonly config: ConfigSource;
  /**
   * Where configuration problems are logged. Default: errors as process warnings
   * (`DABBA_CONFIG_INVALID`), notices to `NODE_DEBUG=dabba`. Pass `null` to log nothing; the
   * `configError` and `notice` events fire either way.
   */
  readonly logger?: MeshLogger | null;
  /** Random source in [0, 1) for weighted choices and LB; for tests. Default `Math.random`. */
  readonly random?: () => number;
}

export interface ResolvedMeshOptions {
  readonly workload: Workload;
  readonly config: ConfigSource;
  readonly logger: MeshLogger | null;
  readonly random: () => number;
}

const debug = debuglog('dabba');

export const DEFAULT_LOGGER: MeshLogger = Object.freeze({
  error(message: string) {
    process.emitWarning(message, { code: 'DABBA_CONFIG_INVALID' });
  },
  notice(message: string) {
    debug(message);
  },
});

export function resolveMeshOptions(options: MeshOptions): ResolvedMeshOptions {
  const issues: ConfigIssue[] = [];
  const source = 'createMesh options';
  if (options === null || typeof options !== 'object') {
    throw new ConfigErrorClass([{ source, path: '', message: 'options must be an object' }]);
  }
  const config = options.config;
  if (!config || typeof config.subscribe !== 'function') {
    issues.push({
      source,
      path: 'config',
      message: 'required: a configuration source such as istioFiles("./mesh")',
    });
  }
  if (options.random !== undefined && typeof options.random !== 'function') {
    issues.push({ source, path: 'random', message: 'must be a function returning a number in [0, 1)' });
  }
  let workload: Workload | undefined;
  try {
    workload = resolveWorkload(options.workload ?? {}, source);
  } catch (err) {
    issues.push(...(err as ConfigError).issues);
  }
  if (issues.length > 0 || !workload) throw new ConfigErrorClass(issues);
  return Object.freeze({
    workload,
    config,
    logger: options.logger === undefined ? DEFAULT_LOGGER : options.logger,
    random: options.random ?? Math.random,
  });
}
