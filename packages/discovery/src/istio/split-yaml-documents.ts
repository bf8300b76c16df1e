/**
 * Splits a multi-document YAML stream at its `---` markers without parsing it, so a file of
 * thousands of documents can be parsed one document at a time with the event loop given a turn
 * in between. YAML 1.2 makes this exact: a line that starts with `---` followed by a space, a
 * tab or the end of the line is a document marker wherever it appears (spec 9.1.4, such lines
 * are "forbidden" inside content, block and flow scalars included), and aliases never cross
 * documents. Directives (`%YAML`, `%TAG`) belong to the document after them; a stream that uses
 * them is not split, so they stay with their document.
 */

export interface YamlChunk {
  readonly text: string;
  /** Lines before this chunk in the stream, to turn the chunk's line numbers into the file's. */
  readonly lineOffset: number;
}

/** Whether `---` at `at` (the start of a line) is a document marker: whitespace or the line's end follows. */
function isMarker(text: string, at: number): boolean {
  if (!text.startsWith('---', at)) return false;
  const c = text[at + 3];
  return (
    c === undefined ||
    c === ' ' ||
    c === '\t' ||
    c === '\n' ||
    (c === '\r' && (text[at + 4] ?? '\n') === '\n')
  );
}

export function splitYamlDocuments(text: string): YamlChunk[] {
  if (/^%/m.test(text)) return [{ text, lineOffset: 0 }];
  const chunks: YamlChunk[] = [];
  let chunkStart = 0;
  let chunkLine = 0;
  let line = 0;
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\n', at);
    const next = end === -1 ? text.length : end + 1;
    if (at > chunkStart && isMarker(text, at)) {
      chunks.push({ text: text.slice(chunkStart, at), lineOffset: chunkLine });
      chunkStart = at;
      chunkLine = line;
    }
    line++;
    at = next;
  }
  if (chunkStart < text.length || chunks.length === 0)
    chunks.push({ text: text.slice(chunkStart), lineOffset: chunkLine });
  return chunks;
}
