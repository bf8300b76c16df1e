// Envoy folds case with absl's ASCII-only helpers (EqualsIgnoreCase, StartsWithIgnoreCase,
// AsciiStrToLower), never Unicode case mapping. These helpers do the same and, except
// `asciiLower`, never allocate, so case-insensitive matching costs a loop over the pattern only.

/** ASCII lower-casing of one UTF-16 code unit; other code units pass through unchanged. */
function lowerCode(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/** `s` with A-Z mapped to a-z and everything else untouched (absl::AsciiStrToLower). */
export function asciiLower(s: string): string {
  let i = 0;
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) break;
    i++;
  }
  if (i === n) return s;
  let out = s.slice(0, i);
  for (; i < n; i++) out += String.fromCharCode(lowerCode(s.charCodeAt(i)));
  return out;
}

/** Whether `s` starts with `lowerPrefix` ignoring ASCII case; `lowerPrefix` must be ASCII-lowered. */
export function startsWithIgnoreCase(s: string, lowerPrefix: string, offset = 0): boolean {
  const n = lowerPrefix.length;
  if (s.length - offset < n) return false;
  for (let i = 0; i < n; i++) {
    if (lowerCode(s.charCodeAt(offset + i)) !== lowerPrefix.charCodeAt(i)) return false;
  }
  return true;
}

/** Whether `s` equals `lowerValue` ignoring ASCII case; `lowerValue` must be ASCII-lowered. */
export function equalsIgnoreCase(s: string, lowerValue: string): boolean {
  return s.length === lowerValue.length && startsWithIgnoreCase(s, lowerValue);
}

/** Whether `s` ends with `lowerSuffix` ignoring ASCII case; `lowerSuffix` must be ASCII-lowered. */
export function endsWithIgnoreCase(s: string, lowerSuffix: string): boolean {
  const offset = s.length - lowerSuffix.length;
  return offset >= 0 && startsWithIgnoreCase(s, lowerSuffix, offset);
}
