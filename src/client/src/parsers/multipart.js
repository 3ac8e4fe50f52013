// Incremental RFC 2046 multipart parser for multipart/x-mixed-replace streams.

/** The boundary parameter of a multipart Content-Type, or null. */
export function multipartBoundary(contentType) {
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType || '');
  return m ? (m[1] || m[2]) : null;
}

function parsePartHeaders(text) {
  const headers = {};
  for (const line of text.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return headers;
}

/** Incremental RFC 2046 multipart body parser. push(text) → array of complete parts
 *  {headers, body}; a part is complete when the delimiter after it ("\r\n--BOUNDARY") has
 *  arrived. `done` becomes true at the close delimiter ("--BOUNDARY--"). The preamble before
 *  the first boundary is skipped. Throws TypeError without a boundary. */
export function createMultipartParser(boundary) {
  if (!boundary) throw new TypeError('Holdfast: multipart boundary required');
  const dash = '--' + boundary;
  const delim = '\r\n' + dash;
  let buf = '';
  let state = 'preamble'; // preamble | after | part | done
  let atStart = true;     // nothing consumed yet: the body may begin with "--BOUNDARY"
  const parser = { done: false, push };

  function preamble() {
    if (atStart && buf.length < dash.length && dash.indexOf(buf) === 0) return false;
    if (atStart && buf.slice(0, dash.length) === dash) {
      buf = buf.slice(dash.length); state = 'after'; atStart = false; return true;
    }
    const at = buf.indexOf(delim);
    if (at >= 0) { buf = buf.slice(at + delim.length); state = 'after'; atStart = false; return true; }
    if (buf.length > delim.length) { buf = buf.slice(buf.length - delim.length); atStart = false; }
    return false;
  }

  function afterDelimiter() {
    let j = 0;
    while (j < buf.length && (buf.charAt(j) === ' ' || buf.charAt(j) === '\t')) j++;
    if (buf.length < j + 2) return false;
    const two = buf.slice(j, j + 2);
    if (two === '--') { state = 'done'; parser.done = true; buf = ''; return false; }
    if (two === '\r\n') { buf = buf.slice(j + 2); state = 'part'; return true; }
    state = 'preamble'; // not a real delimiter line: look for the next one
    return true;
  }

  function part(out) {
    const end = buf.indexOf(delim);
    if (end < 0) return false;
    const raw = buf.slice(0, end);
    buf = buf.slice(end + delim.length);
    state = 'after';
    const split = raw.slice(0, 2) === '\r\n' ? 0 : raw.indexOf('\r\n\r\n');
    if (split < 0) out.push({ headers: {}, body: raw });
    else {
      const bodyAt = split === 0 ? 2 : split + 4;
      out.push({ headers: parsePartHeaders(raw.slice(0, split)), body: raw.slice(bodyAt) });
    }
    return true;
  }

  function step(out) {
    if (state === 'preamble') return preamble();
    if (state === 'after') return afterDelimiter();
    if (state === 'part') return part(out);
    return false;
  }

  function push(text) {
    const out = [];
    if (state === 'done') return out;
    buf += text;
    while (step(out)) { /* consume what is complete */ }
    return out;
  }
  return parser;
}
