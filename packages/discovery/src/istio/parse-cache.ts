/**
 * Parse results by file, reused while a file's content is unchanged, so an edit to one file of
 * a large mesh re-parses only that file.
 */
import { createHash } from 'node:crypto';
import { runSteps, type Steps } from '../steps.ts';
import { type ParsedYaml, parseIstioYamlSteps } from './parse-istio-yaml.ts';

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
  return runSteps(parseCachedSteps(cache, file, shownFile, text, { defaultNamespace }));
}

/** {@link parseCached} as steps: a file is parsed a document at a time. */
export function* parseCachedSteps(
  cache: ParseCache,
  file: string,
  shownFile: string,
  text: string,
  options: { readonly defaultNamespace?: string | undefined; readonly maxDocumentBytes?: number },
): Steps<{ digest: string; parsed: ParsedYaml }> {
  const digest = createHash('sha256').update(text).digest('hex');
  const hit = cache.files.get(file);
  if (hit && hit.digest === digest && hit.shownFile === shownFile) return hit;
  const parsed = yield* parseIstioYamlSteps(shownFile, text, {
    ...(options.defaultNamespace === undefined ? {} : { defaultNamespace: options.defaultNamespace }),
    ...(options.maxDocumentBytes === undefined ? {} : { maxDocumentBytes: options.maxDocumentBytes }),
  });
  cache.parsedLastLoad++;
  cache.files.set(file, { digest, shownFile, parsed });
  return { digest, parsed };
}
