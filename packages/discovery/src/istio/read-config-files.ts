/**
 * Reads the YAML files of the configured paths: folders recursively (hidden entries skipped),
 * symbolic links followed, every problem of the file system turned into an issue that names
 * the entry it concerns. Nothing here throws for a file system condition: a folder being edited
 * while it is read, a link loop or a file that is not UTF-8 must never take the host process
 * down, and they must not be mistaken for "these resources were deleted" either.
 *
 * - A file or link that disappears between listing and reading is gone, as if it had not been
 *   listed (a folder under churn is read as it is now, not rejected).
 * - A link whose target does not exist is skipped with a notice; a link loop or an entry that
 *   cannot be read is an issue (the load is rejected and the previous snapshot keeps serving).
 * - A link to a folder is read as that folder; a folder reached twice (a link to an ancestor)
 *   is read once.
 * - Files over {@link ReadLimits.maxFileBytes} and files that are not valid UTF-8 are issues.
 */
import type { Dirent, Stats } from 'node:fs';
import { constants } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ConfigIssue } from '../errors.ts';

/** Names of the files read in a folder: YAML by extension. */
export const YAML_FILE = /\.ya?ml$/i;

export interface ReadLimits {
  /** A file larger than this is refused (an issue naming it), in bytes. */
  readonly maxFileBytes: number;
}

/** One file's content, as read. */
export interface ConfigFileText {
  /** The absolute path it was read through (links not resolved, so it names what the user put there). */
  readonly file: string;
  readonly text: string;
  /** Size and modification time when read, to tell whether it changed while being read. */
  readonly stamp: string;
}

export interface ReadResult {
  readonly files: readonly ConfigFileText[];
  /** Problems that make this read unusable: the load is rejected. */
  readonly issues: readonly ConfigIssue[];
  /** Some issue is the file system's (a path missing or unreadable), not the content's. */
  readonly unreadable: boolean;
  /**
   * Size, time and inode of every file opened, refused ones included: it changes whenever a
   * file does, so a source can tell a new problem from the same one read again.
   */
  readonly fingerprint: string;
  /** Entries skipped on purpose (a link to nothing, a folder reached twice). */
  readonly notices: readonly ConfigIssue[];
}

/** How a path is shown in issues: relative to the working directory when that is shorter. */
export function shownPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' || relative.length >= file.length ? file : relative;
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? (err as Error).message;
}

function isGone(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

const DESCRIBE: Record<string, string> = {
  ELOOP: 'a symbolic link loop',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'a folder where a file was expected',
  ENAMETOOLONG: 'the path is too long',
  ENOENT: 'it does not exist',
};

/** Marks file system issues apart from content issues, for the error code. */
const UNREADABLE = new WeakSet<ConfigIssue>();

function unreadable(file: string, err: unknown): ConfigIssue {
  const code = errnoOf(err);
  const what = DESCRIBE[code];
  const issue = {
    source: shownPath(file),
    path: '',
    message: `cannot read: ${what ? `${what} (${code})` : code}`,
  };
  UNREADABLE.add(issue);
  return issue;
}

const stampOf = (info: Stats) => `${info.size}:${info.mtimeMs}:${info.ino}`;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** The 1-based line of the first byte that is not valid UTF-8 (the decoder does not say where). */
function firstInvalidUtf8Line(bytes: Uint8Array): number {
  let line = 1;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b === 0x0a) line++;
    const length =
      b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length === 0) return line;
    for (let k = 1; k < length; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return line;
    }
    // Overlong three- and four-byte forms, surrogates and code points above U+10FFFF.
    const second = bytes[i + 1] ?? 0;
    if (
      (b === 0xe0 && second < 0xa0) ||
      (b === 0xed && second > 0x9f) ||
      (b === 0xf0 && second < 0x90) ||
      (b === 0xf4 && second > 0x8f)
    )
      return line;
    i += length;
  }
  return line;
}

/** A FIFO, socket or device where configuration was expected: it is never opened for reading. */
function notRegular(file: string): ConfigIssue {
  const issue: ConfigIssue = {
    source: shownPath(file),
    path: '',
    message:
      'not a regular file or a folder (a FIFO, socket or device); configuration is read from files only',
  };
  UNREADABLE.add(issue);
  return issue;
}

/** Reads `file` whole unless it is over the limit; `undefined` when it is gone. */
async function readOne(
  file: string,
  limits: ReadLimits,
  issues: ConfigIssue[],
  stamps: string[],
): Promise<ConfigFileText | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    // Non-blocking, so that a FIFO put where a file was listed cannot hang the read (and the
    // thread it runs on) until a writer comes; it is refused just below.
    handle = await open(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if (isGone(err)) return undefined;
    issues.push(unreadable(file, err));
    return undefined;
  }
  try {
    const info = await handle.stat();
    if (info.isDirectory()) return undefined; // replaced by a folder since it was listed
    if (!info.isFile()) {
      issues.push(notRegular(file));
      return undefined;
    }
    stamps.push(`${file}\0${stampOf(info)}`);
    if (info.size > limits.maxFileBytes) {
      issues.push({
        source: shownPath(file),
        path: '',
        message: `the file is ${info.size} bytes, over the limit of ${limits.maxFileBytes} (maxFileBytes); split it into smaller files`,
      });
      return undefined;
    }
    const bytes = await handle.readFile();
    if (bytes.length > limits.maxFileBytes) {
      issues.push({
        source: shownPath(file),
        path: '',
        message: `the file grew past the limit of ${limits.maxFileBytes} bytes (maxFileBytes) while it was read`,
      });
      return undefined;
    }
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      issues.push({
        source: shownPath(file),
        line: firstInvalidUtf8Line(bytes),
        path: '',
        message: 'the file is not valid UTF-8 (YAML and Kubernetes resources are UTF-8 text)',
      });
      return undefined;
    }
    return { file, text, stamp: stampOf(info) };
  } catch (err) {
    if (isGone(err)) return undefined;
    issues.push(unreadable(file, err));
    return undefined;
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Whether a listed entry is a folder to descend into, a file, or neither; links followed. */
async function kindOf(
  full: string,
  dirent: Dirent,
  issues: ConfigIssue[],
  notices: ConfigIssue[],
): Promise<'dir' | 'file' | undefined> {
  if (dirent.isDirectory()) return 'dir';
  if (dirent.isFile()) return 'file';
  if (!dirent.isSymbolicLink()) return undefined; // sockets, FIFOs, devices: not configuration
  let target: Stats;
  try {
    target = await stat(full);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      // A dangling link, or a link removed since the listing: nothing to read either way.
      if (YAML_FILE.test(dirent.name))
        notices.push({
          source: shownPath(full),
          path: '',
          message: 'skipped: the symbolic link points to nothing',
        });
      return undefined;
    }
    issues.push(unreadable(full, err));
    return undefined;
  }
  return target.isDirectory() ? 'dir' : target.isFile() ? 'file' : undefined;
}

async function walk(
  dir: string,
  limits: ReadLimits,
  visited: Set<string>,
  out: { files: ConfigFileText[]; issues: ConfigIssue[]; notices: ConfigIssue[]; stamps: string[] },
): Promise<void> {
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    if (!isGone(err)) out.issues.push(unreadable(dir, err));
    return;
  }
  if (visited.has(real)) {
    out.notices.push({
      source: shownPath(dir),
      path: '',
      message: 'skipped: this folder was already read through another path (a symbolic link to it)',
    });
    return;
  }
  visited.add(real);
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (!isGone(err)) out.issues.push(unreadable(dir, err));
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const dirent of entries) {
    if (dirent.name.startsWith('.')) continue;
    const full = path.join(dir, dirent.name);
    const kind = await kindOf(full, dirent, out.issues, out.notices);
    if (kind === 'dir') await walk(full, limits, visited, out);
    else if (kind === 'file' && YAML_FILE.test(dirent.name)) {
      const read = await readOne(full, limits, out.issues, out.stamps);
      if (read) out.files.push(read);
    }
  }
}

/**
 * Reads every YAML file under `roots` (files or folders). A root that does not exist, or cannot
 * be read, is an issue: the configuration it held is not known to be gone.
 */
export async function readConfigFiles(roots: readonly string[], limits: ReadLimits): Promise<ReadResult> {
  const out = {
    files: [] as ConfigFileText[],
    issues: [] as ConfigIssue[],
    notices: [] as ConfigIssue[],
    stamps: [] as string[],
  };
  const visited = new Set<string>();
  for (const root of roots) {
    let info: Stats;
    try {
      info = await stat(root);
    } catch (err) {
      out.issues.push(unreadable(root, err));
      continue;
    }
    if (info.isDirectory()) await walk(root, limits, visited, out);
    else if (!info.isFile()) out.issues.push(notRegular(root));
    else {
      const before = out.issues.length;
      const read = await readOne(root, limits, out.issues, out.stamps);
      if (read) out.files.push(read);
      else if (out.issues.length === before)
        out.issues.push(unreadable(root, Object.assign(new Error('gone'), { code: 'ENOENT' })));
    }
  }
  return {
    files: out.files,
    issues: out.issues,
    notices: out.notices,
    unreadable: out.issues.some((i) => UNREADABLE.has(i)),
    fingerprint: out.stamps.join('\n'),
  };
}
