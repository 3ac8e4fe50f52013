// Runner of the streaming transports over fetch: ndjson, multipart and (without EventSource) sse.
import { makeAbort, readJsonSafe, retryAfterOf } from '../http.js';
import { parseFrame } from '../parsers/frame.js';
import { createLineParser } from '../parsers/lines.js';
import { createMultipartParser, multipartBoundary } from '../parsers/multipart.js';
import { createSseParser } from '../parsers/sse.js';

const ACCEPT = { ndjson: 'application/x-ndjson', multipart: 'multipart/x-mixed-replace', sse: 'text/event-stream' };

const collect = (texts) => texts.map(parseFrame).filter((f) => f);

/** A function (text chunk, end?) → frames for a streaming kind, or null when a multipart
 *  response has no boundary. */
export function framer(kind, contentType) {
  if (kind === 'ndjson') {
    const lines = createLineParser();
    return (text, end) => collect(lines.push(text).concat(end ? lines.flush() : []));
  }
  if (kind === 'multipart') {
    const boundary = multipartBoundary(contentType);
    if (!boundary) return null;
    const parts = createMultipartParser(boundary);
    return (text) => collect(parts.push(text).map((p) => p.body));
  }
  const sse = createSseParser();
  return (text) => collect(sse.push(text).map((e) => e.data));
}

/** Streaming fetch of `kind` ('ndjson' | 'multipart' | 'sse'): frames as they arrive. */
export function runFetchStream(ctx, kind) {
  const ac = makeAbort();
  let stopped = false;
  const stream = (res) => {
    if (!res.body || !res.body.getReader) {
      ctx.onEnd({ error: new Error('streaming fetch unsupported'), unsupported: true });
      return null;
    }
    const next = framer(kind, res.headers.get('Content-Type'));
    if (!next) { ctx.onEnd({ error: new Error(kind + ': no boundary') }); return null; }
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    const pump = () => reader.read().then((r) => {
      if (stopped) { reader.cancel().catch(() => {}); return null; }
      const frames = r.done ? next(decoder.decode(), true) : next(decoder.decode(r.value, { stream: true }), false);
      for (let i = 0; i < frames.length && !stopped; i++) ctx.onFrame(frames[i]);
      if (r.done) { if (!stopped) ctx.onEnd({ eof: true }); return null; }
      return pump();
    });
    return pump();
  };
  ctx.fetch(ctx.url(), {
    headers: { Accept: ACCEPT[kind] }, signal: ac.signal, credentials: ctx.credentials || 'same-origin', cache: 'no-store'
  }).then((res) => {
    if (stopped) return null;
    if (res.status !== 200) {
      return res.text().then((text) => {
        if (!stopped) ctx.onEnd({ status: res.status, body: readJsonSafe(text), retryAfter: retryAfterOf(res.headers) });
      });
    }
    return stream(res);
  }).catch((err) => {
    if (!stopped) ctx.onEnd({ error: err });
  });
  return { close() { stopped = true; ac.abort(); } };
}
