/**
 * `istioFiles()`: Istio YAML in files or folders as a configuration source, watched for changes.
 * Every change re-reads the files, validates, translates and publishes a new snapshot; a change
 * that fails anywhere is reported and the previous snapshot keeps serving. Nothing the file
 * system does (a link loop, a folder deleted and recreated, a file vanishing mid-read) is thrown
 * at the host process: it becomes a `ConfigError` or a notice.
 *
 * A large mesh must not stall the requests of the process it configures, so a load gives the
 * event loop a turn every few milliseconds: between files, between the documents of a file,
 * and inside translation and snapshot assembly (all written as steps). Files whose content is
 * unchanged since the last load are not parsed again (parse-cache.ts).
 *
 * Updating a file: rename a complete file over it (what editors, `kubectl cp`, ConfigMap mounts
 * and config managers do), and it applies at once. A file written in place is read only once
 * it has been quiet for `stableMs`, so a writer that truncates and then writes is not served
 * the empty file in between (Envoy's file sources likewise reload on a rename, not on writes).
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ConfigSource, ConfigSubscription, SnapshotListener } from '../config-source.ts';
import { ConfigError, type ConfigIssue, DiscoveryErrorCode } from '../errors.ts';
import { createSnapshotSteps, type Snapshot } from '../snapshot.ts';
import { createYielder, runStepsSliced } from '../steps.ts';
import type { Workload } from '../workload.ts';
import { collectResourcesSteps } from './collect-resources.ts';
import { type ConfigWatch, watchConfigPaths } from './config-watcher.ts';
import type { IstioResource } from './istio-resource.ts';
import { MESH_CONFIG_DEFAULTS, type MeshConfig } from './mesh-config.ts';
import { OffThreadParser } from './off-thread-parser.ts';
import { createParseCache, parseCachedInTurns } from './parse-cache.ts';
import { MAX_DOCUMENT_BYTES } from './parse-istio-yaml.ts';
import { readConfigFiles, shownPath } from './read-config-files.ts';
import { translateIstioSteps } from './translate.ts';

/** Options of {@link istioFiles}; every field is optional. */
export interface IstioFilesOptions {
  /** Re-read when files change. Default true. */
  readonly watch?: boolean;
  /** Quiet period after the last change before re-reading, in ms. Default 50. */
  readonly debounceMs?: number;
  /** Namespace for resources without `metadata.namespace`. Default `default`. */
  readonly defaultNamespace?: string;
  /** Mesh-wide settings (Istio MeshConfig); defaults are Istio's. */
  readonly mesh?: Partial<MeshConfig>;
  /**
   * A file written in place (not renamed over) is read once it has had no write for this
   * long, in ms. Default 300. 0 reads it at once, finished or not.
   */
  readonly stableMs?: number;
  /** Files larger than this are refused, in bytes. Default 32 MiB. */
  readonly maxFileBytes?: number;
  /**
   * One YAML document (one resource) larger than this is refused, in bytes. Default 1.5 MiB,
   * the largest resource a Kubernetes API server stores (etcd's request limit).
   */
  readonly maxDocumentBytes?: number;
}

/** Defaults of {@link IstioFilesOptions}. */
export const ISTIO_FILES_DEFAULTS = Object.freeze({
  debounceMs: 50,
  stableMs: 300,
  maxFileBytes: 32 * 1024 * 1024,
  maxDocumentBytes: MAX_DOCUMENT_BYTES,
});

/**
 * Loads Istio YAML from `paths` (files or folders, read recursively for `*.yaml`/`*.yml`).
 *
 * @example
 * const mesh = await createMesh({ config: istioFiles('./mesh') });
 */
export function istioFiles(paths: string | readonly string[], options: IstioFilesOptions = {}): ConfigSource {
  const roots = (typeof paths === 'string' ? [paths] : [...paths]).map((p) => path.resolve(p));
  const shown = (typeof paths === 'string' ? [paths] : [...paths]).join(',');
  const mesh: MeshConfig = { ...MESH_CONFIG_DEFAULTS, ...options.mesh };
  const debounceMs = options.debounceMs ?? ISTIO_FILES_DEFAULTS.debounceMs;
  const stableMs = options.stableMs ?? ISTIO_FILES_DEFAULTS.stableMs;
  const limits = { maxFileBytes: options.maxFileBytes ?? ISTIO_FILES_DEFAULTS.maxFileBytes };
  const parseOptions = {
    defaultNamespace: options.defaultNamespace,
    maxDocumentBytes: options.maxDocumentBytes ?? ISTIO_FILES_DEFAULTS.maxDocumentBytes,
  };
  const name = `istio-files:${shown}`;

  return {
    name,
    subscribe(workload: Workload, listener: SnapshotListener): ConfigSubscription {
      let closed = false;
      let generation = 0;
      /** What the last load saw (content hash, or the problem it reported): a repeat is quiet. */
      let lastHash = '';
      let timer: NodeJS.Timeout | undefined;
      let running: Promise<void> = Promise.resolve();
      let watcher: ConfigWatch | undefined;
      const cache = createParseCache();
      const offThread = new OffThreadParser();
      /** `Date.now()` of the latest write into a YAML file in place (not a rename over it). */
      let lastInPlaceWrite = Number.NEGATIVE_INFINITY;

      /** Reports a read that could not be used, once per distinct set of problems and files. */
      const failRead = (issues: readonly ConfigIssue[], unreadable: boolean, fingerprint: string) => {
        const digest = `error:${createHash('sha256').update(JSON.stringify(issues)).update(fingerprint).digest('hex')}`;
        if (digest === lastHash) return;
        lastHash = digest;
        listener.onError(
          new ConfigError(issues, unreadable ? { code: DiscoveryErrorCode.CONFIG_UNREADABLE } : {}),
        );
      };

      const load = async (): Promise<void> => {
        // A file still being written in place is left to settle before it is read.
        const settleIn = lastInPlaceWrite + stableMs - Date.now();
        if (settleIn > 0) {
          schedule(settleIn);
          return;
        }
        const readStarted = Date.now();
        const read = await readConfigFiles(roots, limits);
        if (closed) return;
        if (stableMs > 0 && lastInPlaceWrite >= readStarted) {
          schedule(stableMs); // written while it was read: read again once it is quiet
          return;
        }
        if (read.issues.length > 0) {
          failRead(read.issues, read.unreadable, read.fingerprint);
          return;
        }
        const pause = createYielder();
        cache.parsedLastLoad = 0;
        const hash = createHash('sha256');
        const issues: ConfigIssue[] = [];
        const notices: ConfigIssue[] = [...read.notices];
        for (const n of read.notices) hash.update(`${n.source}\0${n.message}\0`);
        const resources: IstioResource[] = [];
        const present = new Set<string>();
        for (const { file, text } of read.files) {
          const { digest: fileDigest, parsed } = await parseCachedInTurns(
            cache,
            file,
            shownPath(file),
            text,
            parseOptions,
            pause,
            offThread,
          );
          if (closed) return;
          present.add(file);
          hash.update(file).update('\0').update(fileDigest).update('\0');
          for (const r of parsed.resources) resources.push(r);
          for (const i of parsed.issues) issues.push(i);
          for (const n of parsed.notices) notices.push(n);
          await pause();
          if (closed) return;
        }
        for (const file of cache.files.keys()) if (!present.has(file)) cache.files.delete(file);
        const digest = hash.digest('hex');
        if (digest === lastHash || closed) return; // nothing changed (editors touch files twice)

        const set = await runStepsSliced(collectResourcesSteps(resources, issues), pause);
        let snapshot: Snapshot | undefined;
        if (issues.length === 0) {
          const result = await runStepsSliced(translateIstioSteps(set, workload, mesh), pause);
          issues.push(...result.issues);
          notices.push(...result.notices);
          if (issues.length === 0 && !closed) {
            try {
              snapshot = await runStepsSliced(
                createSnapshotSteps(`${generation + 1}-${digest.slice(0, 12)}`, name, result.resources),
                pause,
              );
            } catch (err) {
              if (err instanceof ConfigError) issues.push(...err.issues);
              else throw err;
            }
          }
        }
        if (closed) return;
        lastHash = digest;
        for (const n of notices) listener.onNotice(n);
        if (issues.length > 0 || !snapshot) {
          listener.onError(new ConfigError(issues));
          return;
        }
        generation++;
        listener.onSnapshot(snapshot);
      };

      // Loads run one after another; whatever one throws is reported, never thrown at the host.
      const run = () => {
        running = running
          .then(load)
          .catch((err) =>
            listener.onError(
              new ConfigError([{ source: shown, path: '', message: String(err) }], { cause: err }),
            ),
          );
      };

      function schedule(delayMs = debounceMs): void {
        if (closed) return;
        clearTimeout(timer);
        timer = setTimeout(run, delayMs);
      }

      run();
      if (options.watch !== false) {
        watcher = watchConfigPaths(roots, {
          onChange(_file, inPlace) {
            if (inPlace) lastInPlaceWrite = Date.now();
            schedule();
          },
          onNotice: (notice) => listener.onNotice(notice),
        });
      }

      return {
        async close() {
          closed = true;
          clearTimeout(timer);
          watcher?.close();
          // Before waiting for the load under way: a parse it waits for ends now, not when done.
          offThread.close();
          await running;
        },
      };
    },
  };
}
