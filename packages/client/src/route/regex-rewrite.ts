import { compileRe2, type RegexRewriteModel } from '@dabba/discovery';
import type { RE2JS } from 're2js';

/** A compiled RegexMatchAndSubstitute. */
export interface RegexRewrite {
  /** The RE2 pattern, as configured. */
  readonly pattern: string;
  /** The substitution, as configured (RE2 syntax: `\0`..`\9` groups, `\\` backslash). */
  readonly substitution: string;
  /** `input` with every non-overlapping match replaced (RE2::GlobalReplace). */
  replaceAll(input: string): string;
}

type Piece = string | number;

/**
 * Compiles a RegexMatchAndSubstitute with Envoy's semantics (Regex::Utility / RE2::GlobalReplace):
 * every non-overlapping match, left to right, is replaced; `\N` inserts group N (`\0` the whole
 * match), `\\` a backslash; an empty match right where the previous match ended is skipped.
 * A substitution naming a group the pattern lacks makes RE2 refuse the whole replacement, so the
 * input comes back unchanged, as in Envoy. The pattern and the substitution are valid (the
 * decoder checked both, compiling the pattern into the same cache).
 */
export function compileRegexRewrite(spec: RegexRewriteModel): RegexRewrite {
  const pattern = spec.pattern.regex;
  const re = compileRe2(pattern);
  const substitution = spec.substitution;
  const pieces = parseSubstitution(substitution);
  const maxGroup = pieces.reduce<number>((m, p) => (typeof p === 'number' && p > m ? p : m), 0);
  const usable = maxGroup <= re.groupCount();
  return Object.freeze({
    pattern,
    substitution,
    replaceAll: (input: string) => (usable ? globalReplace(re, input, pieces) : input),
  });
}

// Every `\` is followed by a digit (a group) or another `\` (the decoder refuses anything else).
function parseSubstitution(s: string): readonly Piece[] {
  const pieces: Piece[] = [];
  let literal = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      literal += c;
      continue;
    }
    const n = s[i + 1];
    if (n !== undefined && n >= '0' && n <= '9') {
      if (literal.length > 0) pieces.push(literal);
      literal = '';
      pieces.push(n.charCodeAt(0) - 48);
    } else {
      literal += '\\';
    }
    i++;
  }
  if (literal.length > 0) pieces.push(literal);
  return pieces;
}

function globalReplace(re: RE2JS, input: string, pieces: readonly Piece[]): string {
  const m = re.matcher(input);
  let out = '';
  let p = 0;
  let lastEnd = -1;
  while (p <= input.length && m.find(p)) {
    const start = m.start();
    const end = m.end();
    if (start === end && start === lastEnd) {
      // RE2 skips an empty match that abuts the previous match and moves on one character.
      if (p >= input.length) break;
      const step = isHighSurrogate(input.charCodeAt(p)) && p + 1 < input.length ? 2 : 1;
      out += input.slice(p, p + step);
      p += step;
      continue;
    }
    out += input.slice(p, start);
    for (const piece of pieces) out += typeof piece === 'string' ? piece : (m.group(piece) ?? '');
    // After an empty match the next search starts at the same place, where the rule above
    // moves past one character.
    p = end;
    lastEnd = end;
  }
  return p < input.length ? out + input.slice(p) : out;
}

function isHighSurrogate(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}
