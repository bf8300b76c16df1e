/**
 * The request path as Envoy's HTTP connection manager hands it to routing
 * (ConnectionManagerUtility::maybeNormalizePath, source/common/http/conn_manager_utility.cc),
 * under the listener's settings, which Istio derives from MeshConfig `pathNormalization`
 * (NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES). In Envoy's order:
 *
 * 1. a fragment (`#`) is refused (Envoy's default, `http_reject_path_with_fragment`);
 * 2. escaped slashes (`%2F`, `%5C`, either case) per `path_with_escaped_slashes_action`;
 * 3. `normalize_path`: PathUtil::canonicalPath, Chromium's URL path canonicalizer as Envoy pins
 *    it: a leading `/`; `\` read as `/`; `.`/`..` segments (also written `%2e`) resolved, never
 *    above the root; `%XX` of an unreserved character (A-Z a-z 0-9 - . _ ~) decoded and every
 *    other escape kept as written; space, `"`, `<`, `>`, `^`, `` ` ``, `{`, `|`, `}`, control
 *    characters, DEL and non-ASCII escaped in upper-case hex; a literal `%` that decoding turned
 *    into the start of an escape written `%25`; a NUL, raw or `%00`, refused;
 * 4. `merge_slashes`: runs of `/` become one.
 *
 * Each step touches only the part before the first `?`; the query is kept byte for byte. The
 * result is what routing matches and what goes upstream, as Envoy rewrites `:path`.
 */

import type { PathNormalization } from '@dabba/discovery';

export type { EscapedSlashesAction, PathNormalization } from '@dabba/discovery';

/** No normalization (Istio NONE), as a listener without the fields has. */
export const NO_PATH_NORMALIZATION: PathNormalization = Object.freeze({
  normalizePath: false,
  mergeSlashes: false,
  escapedSlashes: 'KEEP_UNCHANGED',
});

/**
 * The outcome, without an allocation in the common case: the path to route and forward (the
 * same string when nothing changed); `undefined` when Envoy answers 400 with details
 * `path_normalization_failed`; `{ redirect }` when it answers 307 to that path
 * (UNESCAPE_AND_REDIRECT found an escaped slash).
 */
export type NormalizedPath = string | undefined | { readonly redirect: string };

/**
 * Whether any step could change or refuse `path`: a `%`, `.`, `\\`, `#`, a doubled `/`, a
 * character that needs an escape, or a first character other than `/`. Most paths have none
 * and pay this one scan, with no allocation.
 */
function mayChange(path: string): boolean {
  if (path.charCodeAt(0) !== 0x2f) return true;
  let previous = 0x2f;
  let i = 1;
  for (; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 0x3f) break; // the query: only a fragment in it matters
    if (c >= 0x7f || SPECIAL[c] === 1 || (c === 0x2f && previous === 0x2f)) return true;
    previous = c;
  }
  return i < path.length && path.indexOf('#', i) !== -1;
}

/** ASCII characters a step may change: controls, space, `%`, `.`, `\`, `#` and what is escaped. */
const SPECIAL = (() => {
  const table = new Uint8Array(0x80);
  for (let c = 0; c <= 0x20; c++) table[c] = 1;
  for (const c of '%.\\#"<>^`{|}') table[c.charCodeAt(0)] = 1;
  return table;
})();

/** Normalizes `path` (path and query, as a request line carries it) under `settings`. */
export function normalizeRequestPath(path: string, settings: PathNormalization): NormalizedPath {
  if (!mayChange(path)) return path;
  if (path.includes('#')) return undefined;
  if (
    settings === NO_PATH_NORMALIZATION ||
    (!settings.normalizePath && !settings.mergeSlashes && settings.escapedSlashes === 'KEEP_UNCHANGED')
  ) {
    return path;
  }
  const query = path.indexOf('?');
  const head = query === -1 ? path : path.slice(0, query);
  const tail = query === -1 ? '' : path.slice(query);
  let out = head;
  let redirect = false;
  if (settings.escapedSlashes !== 'KEEP_UNCHANGED') {
    const unescaped = unescapeSlashes(out);
    if (unescaped.length < out.length) {
      if (settings.escapedSlashes === 'REJECT_REQUEST') return undefined;
      if (settings.escapedSlashes === 'UNESCAPE_AND_REDIRECT') redirect = true;
      out = unescaped;
    }
  }
  if (settings.normalizePath) {
    const canonical = canonicalPath(out);
    if (canonical === undefined) return undefined;
    out = canonical;
  }
  if (settings.mergeSlashes) out = mergeSlashes(out);
  const result = out + tail;
  return redirect ? { redirect: result } : result === path ? path : result;
}

/** PathUtil::unescapeSlashes: `%2F`/`%2f` to `/`, `%5C`/`%5c` to `\`. */
export function unescapeSlashes(head: string): string {
  if (!head.includes('%')) return head;
  return head.replace(/%(2f|5c)/gi, (m) => (m[2] === 'f' || m[2] === 'F' ? '/' : '\\'));
}

/** PathUtil::mergeSlashes on the part before the query. */
export function mergeSlashes(head: string): string {
  return head.includes('//') ? head.replace(/\/{2,}/g, '/') : head;
}

const HEX = '0123456789ABCDEF';

function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  if (code >= 0x41 && code <= 0x46) return code - 0x37;
  if (code >= 0x61 && code <= 0x66) return code - 0x57;
  return -1;
}

function isUnreserved(code: number): boolean {
  return (
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    (code >= 0x30 && code <= 0x39) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e
  );
}

/** ASCII characters the canonicalizer escapes (besides controls, DEL and non-ASCII). */
function mustEscape(code: number): boolean {
  return (
    code <= 0x20 ||
    code === 0x22 ||
    code === 0x3c ||
    code === 0x3e ||
    code === 0x5e ||
    code === 0x60 ||
    code === 0x7b ||
    code === 0x7c ||
    code === 0x7d ||
    code >= 0x7f
  );
}

const utf8 = new TextEncoder();

/**
 * Chromium's CheckForNestedEscapes (url_canon_path.cc): whether the character just decoded at
 * the end of `text` makes the stray `%` at `strayPercent` begin an escape that was not in the
 * request, either now (`%%32%65` reads `%2e`) or with the next input character (`%%326`
 * reads `%2` then `6`). Such a `%` is written `%25`, so that a second decoding (by the
 * upstream) cannot find an escape the first did not, such as a `.` that escaped normalization.
 */
function formsNestedEscape(text: string, strayPercent: number, nextInput: number): boolean {
  const end = text.length;
  if (hexValue(text.charCodeAt(end - 1)) === -1) return false;
  if (strayPercent === end - 2) return hexValue(nextInput) !== -1;
  return strayPercent === end - 3 && hexValue(text.charCodeAt(end - 2)) !== -1;
}

/**
 * PathUtil::canonicalPath on the part before the query; undefined when Envoy refuses the path
 * (a NUL, raw or escaped).
 */
export function canonicalPath(head: string): string | undefined {
  // Characters first: escapes decoded or kept, unsafe characters escaped, `\` read as `/`.
  let text = '';
  /** Where in `text` the latest `%` that began no escape was written. */
  let strayPercent = -1;
  for (let i = 0; i < head.length; i++) {
    const code = head.charCodeAt(i);
    if (code === 0) return undefined;
    if (code === 0x25) {
      const hi = hexValue(head.charCodeAt(i + 1));
      const lo = hexValue(head.charCodeAt(i + 2));
      if (hi === -1 || lo === -1) {
        strayPercent = text.length;
        text += '%'; // not an escape: a literal percent sign, kept
        continue;
      }
      const value = hi * 16 + lo;
      if (value === 0) return undefined;
      i += 2;
      if (!isUnreserved(value)) {
        text += head.slice(i - 2, i + 1);
        continue;
      }
      text += String.fromCharCode(value);
      if (strayPercent !== -1 && formsNestedEscape(text, strayPercent, head.charCodeAt(i + 1)))
        text = `${text.slice(0, strayPercent)}%25${text.slice(strayPercent + 1)}`;
      continue;
    }
    if (code === 0x5c) {
      text += '/';
      continue;
    }
    if (mustEscape(code)) {
      if (code < 0x80) {
        text += `%${HEX[code >> 4]}${HEX[code & 15]}`;
        continue;
      }
      // Non-ASCII: the UTF-8 bytes of the whole code point (a surrogate pair is one).
      const point = head.codePointAt(i)!;
      const char = String.fromCodePoint(point);
      for (const byte of utf8.encode(char)) text += `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
      i += char.length - 1;
      continue;
    }
    text += head[i];
  }
  if (text.charCodeAt(0) !== 0x2f) text = `/${text}`;
  // Then segments: `.` dropped, `..` drops the one before (never past the root). A dot
  // segment that ends the path leaves the path ending in `/`.
  const segments = text.split('/');
  const out: string[] = [];
  for (let s = 1; s < segments.length; s++) {
    const segment = segments[s]!;
    const last = s === segments.length - 1;
    if (segment === '.') {
      if (last) out.push('');
      continue;
    }
    if (segment === '..') {
      out.pop();
      if (last) out.push('');
      continue;
    }
    out.push(segment);
  }
  return `/${out.join('/')}`;
}
