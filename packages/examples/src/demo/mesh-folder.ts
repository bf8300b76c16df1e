/**
 * The folder the demo's mesh reads: a temporary copy of the hand-written Istio YAML in
 * `packages/examples/mesh`, plus the generated WorkloadEntries. The demo edits files here, never
 * the originals, and removes the folder however it ends.
 */
import { mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Where the hand-written YAML lives (`packages/examples/mesh`, from `src/demo` or `dist/demo`). */
export const MESH_SOURCE_DIR = path.join(import.meta.dirname, '..', '..', 'mesh');

export interface MeshFolder {
  readonly dir: string;
  /** Writes a file atomically (write, then rename), as editors and config managers do. */
  write(name: string, text: string): void;
  /** Replaces `name` with the content of a file from the source folder, e.g. `edits/x.yaml`. */
  replaceWith(name: string, sourceRelative: string): void;
  /** Removes the folder; safe to call more than once. */
  remove(): void;
}

/** Creates the temporary folder and copies the top-level `*.yaml` of the source folder into it. */
export function createMeshFolder(sourceDir = MESH_SOURCE_DIR): MeshFolder {
  const dir = mkdtempSync(path.join(tmpdir(), 'dabba-demo-'));
  let n = 0;
  const folder: MeshFolder = {
    dir,
    write(name, text) {
      // A dot file is skipped by istioFiles(), so the half-written file is never read.
      const tmp = path.join(dir, `.${name}.${n++}.tmp`);
      writeFileSync(tmp, text);
      renameSync(tmp, path.join(dir, name));
    },
    replaceWith(name, sourceRelative) {
      folder.write(name, readFileSync(path.join(sourceDir, sourceRelative), 'utf8'));
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (const entry of readdirSync(sourceDir, { withFileTypes: true })) {
      if (entry.isFile() && /\.ya?ml$/.test(entry.name)) folder.replaceWith(entry.name, entry.name);
    }
  } catch (err) {
    folder.remove();
    throw err;
  }
  return folder;
}
