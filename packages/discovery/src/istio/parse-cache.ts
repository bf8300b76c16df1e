/**
 * Parse results by file, reused while a file's content is unchanged, so an edit to one file of
 * a large mesh re-parses only that file.
 */
import { createHash } from 'node:crypto';
import { type OffThreadParser, parseIstioYamlInTurns } from './off-thread-parser.ts';
import type { ParsedYaml } from './parse-istio-yaml.ts';

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

/**
 * Parses `text` unless the cache holds the same content of the same file. Documents are parsed
 * in turns of the event loop, large ones on `offThread` (off-thread-parser.ts).
 */
export async function parseCachedInTurns(
  cache: ParseCache,
  file: string,
  shownFile: string,
  text: string,
  options: { readonly defaultNamespace?: string | undefined; readonly maxDocumentBytes?: number },
  pause: () => Promise<void> | undefined,
  offThread: OffThreadParser | undefined,
): Promise<{ digest: string; parsed: ParsedYaml }> {
  const digest = createHash('sha256').update(text).digest('hex');
  const hit = cache.files.get(file);
  if (hit && hit.digest === digest && hit.shownFile === shownFile) return hit;
  const parsed = await parseIstioYamlInTurns(
    shownFile,
    text,
    {
      ...(options.defaultNamespace === undefined ? {} : { defaultNamespace: options.defaultNamespace }),
      ...(options.maxDocumentBytes === undefined ? {} : { maxDocumentBytes: options.maxDocumentBytes }),
    },
    pause,
    offThread,
  );
  cache.parsedLastLoad++;
  cache.files.set(file, { digest, shownFile, parsed });
  return { digest, parsed };
}
