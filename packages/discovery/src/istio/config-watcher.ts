/**
 * Watches configuration paths for changes, one `fs.watch` per folder. Node's own recursive watch
 * is not used: on Linux it is a tree walk of its own that throws an unhandled `ELOOP` on a
 * symbolic link loop (killing the host process) and goes quiet for good when the watched folder
 * is deleted. Here every watcher error is caught and reported, and the watched tree is
 * reconciled with the file system after every event that could change it: a folder replaced by
 * another (deleted and recreated, even between two events) is watched anew, a root that
 * disappears is waited for on its nearest existing ancestor, and a root that turns from a file
 * into a folder (or back) is watched as what it is now.
 *
 * Events are reported, not interpreted: the source re-reads the paths. Two facts are kept for
 * it: which file changed, and whether its content changed in place (`fs.watch` "change", a write
 * into the file) rather than by a rename over it, so that a file still being written can be left
 * to settle (see istio-files.ts).
 *
 * Hidden entries (a leading dot) trigger a re-read, because Kubernetes updates a mounted
 * ConfigMap by swapping its `..data` link, but are never watched as folders of their own. A root
 * that is a file is watched through its folder, and every event there triggers a re-read: the
 * file may be a link into a ConfigMap's `..data`.
 */
import { type BigIntStats, type FSWatcher, readdirSync, realpathSync, statSync, watch } from 'node:fs';
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

function statOf(p: string): BigIntStats | undefined {
  try {
    return statSync(p, { bigint: true });
  } catch {
    return undefined;
  }
}

function isDirectory(p: string): boolean {
  return statOf(p)?.isDirectory() === true;
}

/**
 * What tells one folder from another at the same path. The inode number alone does not: a
 * file system may give a folder created right after a deletion the number just freed (ext4
 * does), so the birth time is part of it where the file system keeps one.
 */
function sameFolder(a: BigIntStats, b: BigIntStats): boolean {
  return a.dev === b.dev && a.ino === b.ino && a.birthtimeNs === b.birthtimeNs;
}

/** A watched folder, with the identity it had when the watch began. */
interface WatchedFolder {
  readonly watcher: FSWatcher;
  readonly real: string;
  readonly identity: BigIntStats;
}

type RootKind = 'folder' | 'file' | 'missing';

/** Watches one root (a folder, or a file through its folder) and re-arms when it returns. */
class RootWatch {
  readonly #root: string;
  readonly #handlers: ConfigWatchHandlers;
  readonly #folders = new Map<string, WatchedFolder>();
  /** What the root was when last reconciled; folders are watched for that. */
  #kind: RootKind | undefined;
  /** The ancestor watched while the root is missing. */
  #waiting: { dir: string; watcher: FSWatcher } | undefined;
  #closed = false;
  /** The root was seen missing: its return is worth a notice. */
  #wasMissing = false;

  constructor(root: string, handlers: ConfigWatchHandlers) {
    this.#root = root;
    this.#handlers = handlers;
    this.#reconcile();
  }

  close(): void {
    this.#closed = true;
    this.#forgetAll();
    this.#stopWaiting();
  }

  #notice(message: string): void {
    this.#handlers.onNotice({ source: shownPath(this.#root), path: '', message });
  }

  #rootKind(): RootKind {
    const info = statOf(this.#root);
    if (info === undefined) return 'missing';
    return info.isDirectory() ? 'folder' : 'file';
  }

  /**
   * Makes the watches match the file system: the root's folders when it is a folder, its
   * parent when it is a file, its nearest existing ancestor when it is missing; watches of
   * folders that are gone or were replaced are dropped.
   */
  #reconcile(): void {
    if (this.#closed) return;
    const kind = this.#rootKind();
    if (kind === 'missing') {
      this.#forgetAll();
      this.#kind = kind;
      this.#waitForRoot();
      return;
    }
    this.#stopWaiting();
    if (this.#wasMissing) {
      this.#wasMissing = false;
      this.#notice(`${shownPath(this.#root)} is back; reading it again`);
      this.#handlers.onChange(undefined, false);
    }
    if (kind !== this.#kind) this.#forgetAll();
    this.#kind = kind;
    for (const [dir, folder] of [...this.#folders]) {
      const now = statOf(dir);
      if (now === undefined || !now.isDirectory() || !sameFolder(now, folder.identity)) this.#forget(dir);
    }
    if (kind === 'folder') this.#watchTree(this.#root);
    else this.#watchFolder(path.dirname(this.#root));
  }

  /** The root is gone: wait on the nearest ancestor that exists. */
  #waitForRoot(): void {
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
    if (this.#waiting?.dir === dir) return;
    this.#stopWaiting();
    try {
      const watcher = watch(dir, { persistent: false }, () => this.#reconcile());
      watcher.on('error', () => {
        watcher.close();
        if (this.#waiting?.watcher === watcher) this.#waiting = undefined;
        queueMicrotask(() => this.#reconcile());
      });
      this.#waiting = { dir, watcher };
    } catch (err) {
      this.#notice(
        `cannot watch ${shownPath(dir)} for ${shownPath(this.#root)} to return: ${(err as Error).message}`,
      );
      return;
    }
    // It, or a folder on the way to it, may have appeared between the check and the watch.
    this.#reconcile();
  }

  #stopWaiting(): void {
    this.#waiting?.watcher.close();
    this.#waiting = undefined;
  }

  /** Watches `dir` and every folder below it that is not hidden (links to folders followed once). */
  #watchTree(dir: string): void {
    this.#watchFolder(dir);
    let entries: string[];
    try {
      entries = readdirSync(dir);
    } catch {
      return; // gone or unreadable: the read reports it
    }
    for (const name of entries) {
      if (name.startsWith('.')) continue;
      const full = path.join(dir, name);
      if (isDirectory(full)) this.#watchTree(full);
    }
  }

  /** Watches one folder, unless it is watched already (under this path or another). */
  #watchFolder(dir: string): void {
    if (this.#closed || this.#folders.has(dir)) return;
    let real: string;
    let identity: BigIntStats;
    try {
      real = realpathSync(dir);
      identity = statSync(dir, { bigint: true });
    } catch {
      return;
    }
    for (const f of this.#folders.values()) if (f.real === real) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(dir, { persistent: false }, (event, name) => this.#onEvent(dir, event, name));
    } catch (err) {
      this.#notice(`cannot watch ${shownPath(dir)} for changes: ${(err as Error).message}`);
      return;
    }
    watcher.on('error', (err) => {
      // A folder removed under its watcher, or a watch limit: stop this one, re-check the tree.
      this.#forget(dir);
      if (this.#closed) return;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        this.#notice(`stopped watching ${shownPath(dir)}: ${(err as Error).message}`);
      this.#reconcile();
      this.#handlers.onChange(undefined, false);
    });
    this.#folders.set(dir, { watcher, real, identity });
  }

  #forget(dir: string): void {
    const entry = this.#folders.get(dir);
    if (entry === undefined) return;
    entry.watcher.close();
    this.#folders.delete(dir);
  }

  #forgetAll(): void {
    for (const { watcher } of this.#folders.values()) watcher.close();
    this.#folders.clear();
  }

  #onEvent(dir: string, event: string, name: string | Buffer | null): void {
    if (this.#closed) return;
    const entry = name === null ? undefined : String(name);
    const folder = this.#folders.get(dir);
    const now = statOf(dir);
    // A rename may add or remove a folder; a folder that is gone or no longer the one watched
    // (deleted and recreated, perhaps before this event arrived) must be watched anew.
    if (event === 'rename' || folder === undefined || now === undefined || !sameFolder(now, folder.identity))
      this.#reconcile();
    const full = entry === undefined ? undefined : path.join(dir, entry);
    const inPlace =
      event === 'change' && entry !== undefined && !entry.startsWith('.') && YAML_FILE.test(entry);
    this.#handlers.onChange(full, inPlace);
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
