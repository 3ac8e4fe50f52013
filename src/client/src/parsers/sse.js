// Incremental text/event-stream parser (the HTML spec's algorithm, minus I/O).

/** Incremental text/event-stream parser. push(text) → array of {type, data, id}; `id` is the
 *  last event id in force (it persists across events, as in EventSource); `parser.retry` holds
 *  the last `retry:` value (ms) or null. Handles CRLF/CR/LF, a CR at the end of a chunk
 *  followed by LF in the next, comments, multi-line data, a leading BOM. */
export function createSseParser() {
  let buf = '';
  let skipLF = false;
  let first = true;
  let data = [];
  let event = '';
  let lastId = '';
  const parser = { retry: null, push };

  function field(line, out) {
    if (line === '') {
      if (data.length) out.push({ type: event || 'message', data: data.join('\n'), id: lastId });
      data = [];
      event = '';
      return;
    }
    if (line.charAt(0) === ':') return;
    const colon = line.indexOf(':');
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.charAt(0) === ' ') value = value.slice(1);
    if (name === 'data') data.push(value);
    else if (name === 'event') event = value;
    else if (name === 'id') { if (!value.includes('\0')) lastId = value; }
    else if (name === 'retry') { if (/^\d+$/.test(value)) parser.retry = parseInt(value, 10); }
  }

  function push(text) {
    const out = [];
    if (first && text.length) { if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); first = false; }
    if (!text.length) return out;
    if (skipLF && text.charAt(0) === '\n') text = text.slice(1);
    skipLF = false;
    buf += text;
    let start = 0;
    for (let i = 0; i < buf.length; i++) {
      const c = buf.charAt(i);
      if (c !== '\r' && c !== '\n') continue;
      field(buf.slice(start, i), out);
      if (c === '\r') {
        if (i + 1 < buf.length) { if (buf.charAt(i + 1) === '\n') i++; }
        else skipLF = true;
      }
      start = i + 1;
    }
    buf = buf.slice(start);
    return out;
  }
  return parser;
}
