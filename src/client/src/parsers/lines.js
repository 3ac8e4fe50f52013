// Incremental newline-delimited splitter for ndjson streams.

const clean = (line) => (line.charAt(line.length - 1) === '\r' ? line.slice(0, -1) : line);

/** Incremental newline-delimited splitter for ndjson: push(text) → complete non-blank lines
 *  (a trailing CR removed); flush() → the unterminated rest, if any (at end of stream). */
export function createLineParser() {
  let buf = '';
  return {
    push(text) {
      buf += text;
      const lines = buf.split('\n');
      buf = lines.pop();
      return lines.map(clean).filter((l) => l.trim() !== '');
    },
    flush() {
      const rest = clean(buf);
      buf = '';
      return rest.trim() === '' ? [] : [rest];
    }
  };
}
