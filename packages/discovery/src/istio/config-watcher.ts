/**
 * Watches configuration paths for changes, one `fs.watch` per folder. Node's own recursive watch
 * is not used: on Linux it is a tree walk of its own that throws an unhandled `ELOOP` on a
 * symbolic link loop (killing the host process) and goes quiet for good when the watched folder
 * is deleted. Here every watcher error is caught and reported, and a watched path that
 * disappears is waited for on its nearest existing ancestor, then watched again when it returns.
 *
 * Events are reported, not interpreted: the source re-reads the paths. Two facts are kept for
 * it: which file changed, and whether its content changed in place (`fs.watch` "change", a write
 * into the file) rather than by a rename over it, so that a file still being written can be left
 * to settle (see istio-files.ts).
 *
 * Hidden entries (a leading dot) trigger a re-read, because Kubernetes updates a mounted
 * ConfigMap by swapping its `..data` link, but are never watched as folders of their own.
 */
import { type FSWatcher, readdirSync, realpathSync, statSync, watch } from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../errors.ts';
import { shownPath, YAML_FILE } from './read-config-files.ts';

export interface ConfigWatchHandlers {
  /**
   * Something under a watched path changed. `file` is the path the event named, when it named
   * one; `inPlace` says a YAML file's content was written where it is.
   */
  onChange(file: string | undefined, inPlace: boolean): void;
  /** A path went away or came back, or a folder cannot be watched. */
  onNotice(notice: ConfigIssue): void;
}

export interface ConfigWatch {
  close(): void;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Watches one root (a folder, or a file through its folder) and re-arms when it returns. */
class RootWatch {
  readonly #root: string;
  readonly #handlers: ConfigWatchHandlers;
  /** Watched folders by path, with the real path each resolves to (links to folders are followed). */
  readonly #folders = new Map<string, { watcher: FSWatcher; real: string }>();
  /** The ancestor watched while the root is missing. */
  #waiting: { dir: string; watcher: FSWatcher } | undefined;
  #closed = false;
  /** The root was seen missing: its return is worth a notice. */
  #wasMissing = false;

  constructor(root: string, handlers: ConfigWatchHandlers) {
    this.#root = root;
    this.#handlers = handlers;
    this.#arm();
  }

  close(): void {
    this.#closed = true;
    for (const { watcher } of this.#folders.values()) watcher.close();
    this.#folders.clear();
    this.#waiting?.watcher.close();
    this.#waiting = undefined;
  }

  /** Watches the root if it exists, else its nearest existing ancestor until it does. */
  #arm(): void {
    if (this.#closed) return;
    const rootIsDir = isDirectory(this.#root);
    const folder = rootIsDir ? this.#root : path.dirname(this.#root);
    if (!rootIsDir && !exists(this.#root) && !isDirectory(folder)) {
      this.#waitForRoot();
      return;
    }
    this.#waiting?.watcher.close();
    this.#waiting = undefined;
    if (this.#wasMissing) {
      this.#wasMissing = false;
      this.#notice(`${shownPath(this.#root)} is back; reading it again`);
      this.#handlers.onChange(undefined, false);
    }
    if (rootIsDir) this.#watchTree(this.#root);
    else this.#watchFolder(folder, path.basename(this.#root));
  }

  #notice(message: string): void {
    this.#handlers.onNotice({ source: shownPath(this.#root), path: '', message });
  }

  /** The root is gone: close what watched it and wait on the nearest ancestor that exists. */
  #waitForRoot(): void {
    for (const { watcher } of this.#folders.values()) watcher.close();
    this.#folders.clear();
    this.#waiting?.watcher.close();
    this.#waiting = undefined;
    if (!this.#wasMissing) {
      this.#wasMissing = true;
      this.#notice(
        `${shownPath(this.#root)} was removed; the configuration read from it keeps serving, and it is read again when it returns`,
      );
    }
    let dir = path.dirname(this.#root);
    while (!isDirectory(dir)) {
      const parent = path.dirname(dir);
      if (parent === dir) return; // nothing left to watch (the file system root is always there)
      dir = parent;
    }
    try {
      const watcher = watch(dir, { persistent: false }, () => this.#arm());
      watcher.on('error', () => {
        watcher.close();
        if (this.#waiting?.watcher === watcher) this.#waiting = undefined;
        queueMicrotask(() => this.#arm());
      });
      this.#waiting = { dir, watcher };
      // It may have come back between the check and the watch.
      if (exists(this.#root)) this.#arm();
    } catch (err) {
      this.#notice(
        `cannot watch ${shownPath(dir)} for ${shownPath(this.#root)} to return: ${(err as Error).message}`,
      );
    }
  }

  /** Watches `dir` and every folder below it that is not hidden (links to folders followed once). */
  #watchTree(dir: string): void {
    if (!this.#watchFolder(dir, undefined)) return;
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return; // gone or unreadable: the read reports it
    }
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const full = path.join(dir, name);
      if (!this.#folders.has(full) && isDirectory(full)) this.#watchTree(full);
    }
  }

  /**
   * Watches one folder; with `only`, just the events that name that entry (a root that is a
   * file). Returns false when the folder was not watched (already watched through another
   * path, or it cannot be).
   */
  #watchFolder(dir: string, only: string | undefined): boolean {
    if (this.#closed || this.#folders.has(dir)) return false;
    let real: string;
    try {
      real = realpathSync(dir);
    } catch {
      return false;
    }
    for (const f of this.#folders.values()) if (f.real === real) return false;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (event, name) => this.#onEvent(dir, only, event, name));
    } catch (err) {
      this.#notice(`cannot watch ${shownPath(dir)} for changes: ${(err as Error).message}`);
      return false;
    }
    watcher.on('error', (err) => {
      // A folder removed under its watcher, or a watch limit: stop this one, re-check the tree.
      this.#forget(dir);
      if (this.#closed) return;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#notice(`stopped watching ${shownPath(dir)}: ${(err as Error).message}`);
      this.#recheck();
    });
    this.#folders.set(dir, { watcher, real });
    return true;
  }

  #forget(dir: string): void {
    const entry = this.#folders.get(dir);
    if (entry === undefined) return;
    entry.watcher.close();
    this.#folders.delete(dir);
  }

  #onEvent(dir: string, only: string | undefined, event: string, name: string | Buffer | null): void {
    if (this.#closed) return;
    const entry = name === null ? undefined : String(name);
    if (only !== undefined && entry !== only) {
      // The folder of a watched file: only that file matters, unless the folder itself went.
      if (!isDirectory(dir)) this.#recheck();
      return;
    }
    const full = entry === undefined ? undefined : path.join(dir, entry);
    if (event === 'rename') {
      if (!isDirectory(dir)) {
        this.#recheck();
        return;
      }
      if (full !== undefined && only === undefined && !entry!.startsWith('.')) {
        if (isDirectory(full)) this.#watchTree(full);
        else this.#forgetBelow(full);
      }
    }
    const inPlace =
      event === 'change' && entry !== undefined && !entry.startsWith('.') && YAML_FILE.test(entry);
    this.#handlers.onChange(full, inPlace);
  }

  /** Stops watching a folder that went away, and everything that was below it. */
  #forgetBelow(gone: string): void {
    for (const dir of [...this.#folders.keys()]) {
      if (dir === gone || dir.startsWith(gone + path.sep)) this.#forget(dir);
    }
  }

  /** Something was removed: if it was the root, wait for it to return; else keep what is left. */
  #recheck(): void {
    const rootIsDir = isDirectory(this.#root);
    if (!rootIsDir && !exists(this.#root)) {
      this.#handlers.onChange(undefined, false);
      this.#waitForRoot();
      return;
    }
    for (const dir of [...this.#folders.keys()]) if (!isDirectory(dir)) this.#forget(dir);
    this.#handlers.onChange(undefined, false);
    if (rootIsDir) this.#watchTree(this.#root);
    else if (this.#folders.size === 0) this.#watchFolder(path.dirname(this.#root), path.basename(this.#root));
  }
}

/** Watches every root; the handlers hear of every change and of paths leaving and returning. */
export function watchConfigPaths(roots: readonly string[], handlers: ConfigWatchHandlers): ConfigWatch {
  const watches = roots.map((root) => new RootWatch(root, handlers));
  return {
    close() {
      for (const w of watches) w.close();
    },
  };
}
