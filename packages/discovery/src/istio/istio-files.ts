/**
 * `istioFiles()`: Istio YAML in files or folders as a configuration source, watched for changes.
 * Every change re-reads the files, validates, translates and publishes a new snapshot; a change
 * that fails anywhere is reported and the previous snapshot keeps serving.
 *
 * A large mesh must not stall the requests of the process it configures, so a load gives the
 * event loop a turn every few milliseconds: between files, and inside translation and snapshot
 * assembly (both written as steps). Files whose content is unchanged since the last load are
 * not parsed again: their validated resources are kept by content hash.
 */
import { createHash } from 'node:crypto';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigSource, ConfigSubscription, SnapshotListener } from '../config-source.ts';
import { ConfigError, type ConfigIssue, DiscoveryErrorCode } from '../errors.ts';
import { createSnapshotSteps, type Snapshot } from '../snapshot.ts';
import { createYielder, runSteps, runStepsSliced, type Steps } from '../steps.ts';
import type { Workload } from '../workload.ts';
import type { IstioResource, IstioResourceSet } from './istio-resource.ts';
import { MESH_CONFIG_DEFAULTS, type MeshConfig } from './mesh-config.ts';
import { type ParsedYaml, parseIstioYaml } from './parse-istio-yaml.ts';
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
}

const YAML_FILE = /\.ya?ml$/i;

/** A file's parse result, valid while its content hash and shown name are the same. */
interface ParsedFile {
  readonly digest: string;
  readonly shownFile: string;
  readonly parsed: ParsedYaml;
}

/**
 * Parse results by absolute path, reused when a file's content is unchanged, so an edit to one
 * file of a large mesh re-parses only that file. Entries of files that disappeared are dropped.
 */
export interface ParseCache {
  readonly files: Map<string, ParsedFile>;
  /** Files parsed (not reused) by the last load, for tests and diagnostics. */
  parsedLastLoad: number;
}

export function createParseCache(): ParseCache {
  return { files: new Map(), parsedLastLoad: 0 };
}

/** Parses `text` unless the cache holds the same content of the same file. */
export function parseCached(
  cache: ParseCache,
  file: string,
  shownFile: string,
  text: string,
  defaultNamespace: string | undefined,
): { digest: string; parsed: ParsedYaml } {
  const digest = createHash('sha256').update(text).digest('hex');
  const hit = cache.files.get(file);
  if (hit && hit.digest === digest && hit.shownFile === shownFile) return hit;
  const parsed = parseIstioYaml(shownFile, text, defaultNamespace === undefined ? {} : { defaultNamespace });
  cache.parsedLastLoad++;
  cache.files.set(file, { digest, shownFile, parsed });
  return { digest, parsed };
}

async function listYamlFiles(entry: string): Promise<string[]> {
  const info = await stat(entry);
  if (!info.isDirectory()) return [entry];
  const out: string[] = [];
  for (const dirent of await readdir(entry, { withFileTypes: true })) {
    if (dirent.name.startsWith('.')) continue;
    const full = path.join(entry, dirent.name);
    if (dirent.isDirectory()) out.push(...(await listYamlFiles(full)));
    else if (YAML_FILE.test(dirent.name)) out.push(full);
  }
  return out.sort();
}

/** Groups parsed resources by kind and reports the same kind/namespace/name declared twice. */
export function collectResources(
  resources: readonly IstioResource[],
  issues: ConfigIssue[],
): IstioResourceSet {
  return runSteps(collectResourcesSteps(resources, issues));
}

/** {@link collectResources} as steps: it pauses every few hundred resources. */
export function* collectResourcesSteps(
  resources: readonly IstioResource[],
  issues: ConfigIssue[],
): Steps<IstioResourceSet> {
  const seen = new Map<string, IstioResource>();
  const set = { virtualServices: [], destinationRules: [], serviceEntries: [], workloadEntries: [] } as {
    [K in keyof IstioResourceSet]: IstioResourceSet[K][number][];
  };
  for (let i = 0; i < resources.length; i++) {
    const r = resources[i]!;
    if (i % 256 === 255) yield;
    const key = `${r.kind}/${r.namespace}/${r.name}`;
    const prior = seen.get(key);
    if (prior) {
      issues.push({
        source: r.origin.source,
        line: r.origin.line,
        resource: { kind: r.kind, namespace: r.namespace, name: r.name },
        path: 'metadata.name',
        message: `already declared at ${prior.origin.source}:${prior.origin.line}`,
      });
      continue;
    }
    seen.set(key, r);
    if (r.kind === 'VirtualService') set.virtualServices.push(r);
    else if (r.kind === 'DestinationRule') set.destinationRules.push(r);
    else if (r.kind === 'ServiceEntry') set.serviceEntries.push(r);
    else set.workloadEntries.push(r);
  }
  return set;
}

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
  const debounceMs = options.debounceMs ?? 50;
  const name = `istio-files:${shown}`;

  return {
    name,
    subscribe(workload: Workload, listener: SnapshotListener): ConfigSubscription {
      let closed = false;
      let generation = 0;
      let lastHash = '';
      let timer: NodeJS.Timeout | undefined;
      let running: Promise<void> = Promise.resolve();
      const watchers: FSWatcher[] = [];
      const cache = createParseCache();

      const load = async (): Promise<void> => {
        const texts: { file: string; text: string }[] = [];
        try {
          for (const root of roots) {
            for (const file of await listYamlFiles(root))
              texts.push({ file, text: await readFile(file, 'utf8') });
          }
        } catch (err) {
          const e = err as NodeJS.ErrnoException;
          listener.onError(
            new ConfigError(
              [{ source: e.path ?? shown, path: '', message: `cannot read: ${e.code ?? e.message}` }],
              {
                code: DiscoveryErrorCode.CONFIG_UNREADABLE,
                cause: err,
              },
            ),
          );
          return;
        }
        const pause = createYielder();
        cache.parsedLastLoad = 0;
        const hash = createHash('sha256');
        const issues: ConfigIssue[] = [];
        const notices: ConfigIssue[] = [];
        const resources: IstioResource[] = [];
        const present = new Set<string>();
        for (const { file, text } of texts) {
          const shownFile = path.relative(process.cwd(), file) || file;
          const { digest: fileDigest, parsed } = parseCached(
            cache,
            file,
            shownFile,
            text,
            options.defaultNamespace,
          );
          present.add(file);
          hash.update(file).update('\0').update(fileDigest).update('\0');
          for (const r of parsed.resources) resources.push(r);
          issues.push(...parsed.issues);
          notices.push(...parsed.notices);
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

      const schedule = () => {
        if (closed) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          running = running
            .then(load)
            .catch((err) =>
              listener.onError(
                new ConfigError([{ source: shown, path: '', message: String(err) }], { cause: err }),
              ),
            );
        }, debounceMs);
      };

      running = load().catch((err) =>
        listener.onError(
          new ConfigError([{ source: shown, path: '', message: String(err) }], { cause: err }),
        ),
      );
      if (options.watch !== false) {
        for (const root of roots) watchers.push(...watchRoot(root, schedule, listener));
      }

      return {
        async close() {
          closed = true;
          clearTimeout(timer);
          for (const w of watchers) w.close();
          await running;
        },
      };
    },
  };
}

/**
 * Watches a folder recursively, or a file through its folder: editors replace files by rename,
 * which a watch on the file itself would lose.
 */
function watchRoot(root: string, onChange: () => void, listener: SnapshotListener): FSWatcher[] {
  let isDir: boolean;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    isDir = false;
  }
  const dir = isDir ? root : path.dirname(root);
  const base = path.basename(root);
  try {
    const watcher = watch(dir, { recursive: isDir, persistent: false }, (_event, changed) => {
      if (isDir || changed === null || changed === base) onChange();
    });
    return [watcher];
  } catch (err) {
    listener.onNotice({
      source: root,
      path: '',
      message: `cannot watch for changes: ${(err as Error).message}`,
    });
    return [];
  }
}
