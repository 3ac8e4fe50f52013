// Incremental parsers of the streaming transports: SSE, ndjson lines, multipart parts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSseParser } from '../../src/client/src/parsers/sse.js';
import { createLineParser } from '../../src/client/src/parsers/lines.js';
import { createMultipartParser, multipartBoundary } from '../../src/client/src/parsers/multipart.js';
import { parseFrame } from '../../src/client/src/parsers/frame.js';

// Feeds `text` to parser.push in pieces cut at `cuts` (character offsets); returns everything.
function feed(parser, text, cuts) {
  const out = [];
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    out.push(...parser.push(text.slice(at, cut)));
    at = cut;
  }
  return out;
}

// Every way of cutting `text` into two pieces, plus one-char-at-a-time.
function allSplits(text) {
  const splits = [[]];
  for (let i = 1; i < text.length; i++) splits.push([i]);
  splits.push(Array.from({ length: text.length - 1 }, (_, i) => i + 1));
  return splits;
}

const SSE_STREAM =
  'retry: 2000\n\n' +
  'id: room1:E-41\nevent: hello\ndata: {"type":"hello","cursor":"room1:E-41","heartbeat":25}\n\n' +
  ': a comment line\n' +
  'id: room1:E-42\nevent: message\ndata: {"type":"message","channel":"room1",\ndata:  "id":"E-42"}\n\n' +
  'event: heartbeat\ndata: {"type":"heartbeat","time":1}\n\n';

test('SSE: events, ids that persist, multi-line data joined with \\n', () => {
  const parser = createSseParser();
  const events = parser.push(SSE_STREAM);
  assert.equal(parser.retry, 2000);
  assert.equal(events.length, 3, 'retry-only block dispatches nothing');
  assert.deepEqual(events[0], {
    type: 'hello', id: 'room1:E-41',
    data: '{"type":"hello","cursor":"room1:E-41","heartbeat":25}',
  });
  assert.equal(events[1].type, 'message');
  assert.equal(events[1].id, 'room1:E-42');
  assert.equal(events[1].data, '{"type":"message","channel":"room1",\n "id":"E-42"}');
  assert.deepEqual(JSON.parse(events[1].data), { type: 'message', channel: 'room1', id: 'E-42' });
  assert.equal(events[2].type, 'heartbeat');
  assert.equal(events[2].id, 'room1:E-42', 'last event id persists like EventSource');
});

test('SSE: the same events whatever the chunk boundaries', () => {
  const expected = createSseParser().push(SSE_STREAM);
  for (const cuts of allSplits(SSE_STREAM)) {
    assert.deepEqual(feed(createSseParser(), SSE_STREAM, cuts), expected, `cuts ${cuts}`);
  }
});

test('SSE: CRLF and lone CR line ends, including CR at a chunk end', () => {
  const crlf = 'event: a\r\ndata: 1\r\ndata: 2\r\n\r\nevent: b\rdata: 3\r\r';
  for (const cuts of allSplits(crlf)) {
    const ev = feed(createSseParser(), crlf, cuts);
    assert.deepEqual(ev.map((e) => [e.type, e.data]), [['a', '1\n2'], ['b', '3']], `cuts ${cuts}`);
  }
});

test('SSE: default type, field without colon, no-space values, BOM, id with NUL ignored', () => {
  const ev = createSseParser().push('\ufeffdata\ndata:x\nid:5\n\nid: a\0b\ndata: y\n\n');
  assert.deepEqual(ev, [
    { type: 'message', data: '\nx', id: '5' },
    { type: 'message', data: 'y', id: '5' },
  ]);
});

test('SSE: an unterminated event is not dispatched', () => {
  const p = createSseParser();
  assert.deepEqual(p.push('data: half'), []);
  assert.deepEqual(p.push('\n'), []);
  assert.equal(p.push('\n').length, 1);
});

const NDJSON =
  '{"type":"hello","cursor":"r:E-0","heartbeat":25}\n' +
  '{"type":"message","channel":"r","id":"E-1","data":{"text":"h\\u00e9 ✓ \\n"},"cursor":"r:E-1"}\r\n' +
  '\n' +
  '{"type":"heartbeat","time":5}\n';

test('ndjson: complete lines only, whatever the chunking; blank lines and CR dropped', () => {
  const expected = [
    '{"type":"hello","cursor":"r:E-0","heartbeat":25}',
    '{"type":"message","channel":"r","id":"E-1","data":{"text":"h\\u00e9 ✓ \\n"},"cursor":"r:E-1"}',
    '{"type":"heartbeat","time":5}',
  ];
  for (const cuts of allSplits(NDJSON)) {
    assert.deepEqual(feed(createLineParser(), NDJSON, cuts), expected, `cuts ${cuts}`);
  }
  assert.equal(parseFrame(expected[1]).data.text, 'hé ✓ \n');
});

test('ndjson: a line split mid-way waits for its end; flush returns an unterminated tail', () => {
  const p = createLineParser();
  assert.deepEqual(p.push('{"type":"mess'), []);
  assert.deepEqual(p.push('age"}\n{"a"'), ['{"type":"message"}']);
  assert.deepEqual(p.flush(), ['{"a"']);
  assert.deepEqual(p.flush(), []);
});

test('ndjson over bytes: a UTF-8 character split across chunks survives TextDecoder streaming', () => {
  const bytes = new TextEncoder().encode('{"t":"✓é"}\n');
  const dec = new TextDecoder();
  const p = createLineParser();
  const out = [];
  for (let i = 0; i < bytes.length; i++) out.push(...p.push(dec.decode(bytes.subarray(i, i + 1), { stream: true })));
  assert.deepEqual(out.map(parseFrame), [{ t: '✓é' }]);
});

test('multipartBoundary reads plain and quoted boundaries', () => {
  assert.equal(multipartBoundary('multipart/x-mixed-replace; boundary=holdfast-abc_123'), 'holdfast-abc_123');
  assert.equal(multipartBoundary('multipart/mixed; charset=x; boundary="a b"'), 'a b');
  assert.equal(multipartBoundary('application/json'), null);
  assert.equal(multipartBoundary(null), null);
});

// Exactly what the server writes: preamble, two frames, tail (see src/transport/stream.cpp).
const B = 'holdfast-Xy9';
const PART = (json) => 'Content-Type: application/json\r\n\r\n' + json + '\r\n--' + B;
const MULTIPART =
  '--' + B + '\r\n' + PART('{"type":"hello","cursor":"r:E-0","heartbeat":25}') +
  '\r\n' + PART('{"type":"message","id":"E-1","data":"a\\r\\n--holdfast-Xy9 inside"}') +
  '\r\n' + PART('{"type":"heartbeat","time":1}') +
  '--\r\n';

test('multipart: parts as the server writes them, split at every position', () => {
  const bodies = [
    '{"type":"hello","cursor":"r:E-0","heartbeat":25}',
    '{"type":"message","id":"E-1","data":"a\\r\\n--holdfast-Xy9 inside"}',
    '{"type":"heartbeat","time":1}',
  ];
  for (const cuts of allSplits(MULTIPART)) {
    const p = createMultipartParser(B);
    const parts = feed(p, MULTIPART, cuts);
    assert.deepEqual(parts.map((x) => x.body), bodies, `cuts ${cuts}`);
    assert.equal(parts[0].headers['content-type'], 'application/json');
    assert.equal(p.done, true);
  }
});

test('multipart: each part is delivered as soon as its closing delimiter arrives', () => {
  const p = createMultipartParser(B);
  const firstWrite = '--' + B + '\r\n' + PART('{"n":1}');
  assert.deepEqual(p.push(firstWrite).map((x) => x.body), ['{"n":1}']);
  assert.deepEqual(p.push('\r\nContent-Type: application/json\r\n\r\n{"n":'), []);
  assert.deepEqual(p.push('2}\r\n--' + B).map((x) => x.body), ['{"n":2}']);
  assert.equal(p.done, false);
  assert.deepEqual(p.push('--\r\n'), []);
  assert.equal(p.done, true);
  assert.deepEqual(p.push('\r\n--' + B + '\r\n\r\nlate'), [], 'nothing after the close delimiter');
});

test('multipart: a preamble is skipped, header-less parts and transport padding accepted', () => {
  const text = 'ignored preamble\r\n--' + B + '  \r\n\r\n{"n":1}\r\n--' + B + '\r\nX-A: 1\r\n\r\n{"n":2}\r\n--' + B + '--';
  for (const cuts of allSplits(text)) {
    const parts = feed(createMultipartParser(B), text, cuts);
    assert.deepEqual(parts.map((x) => x.body), ['{"n":1}', '{"n":2}'], `cuts ${cuts}`);
    assert.deepEqual(parts[0].headers, {});
    assert.deepEqual(parts[1].headers, { 'x-a': '1' });
  }
});

test('multipart: a boundary look-alike not at a line start is data', () => {
  const text = '--' + B + '\r\n\r\nx--' + B + 'y\r\n--' + B + '--';
  assert.deepEqual(createMultipartParser(B).push(text).map((x) => x.body), ['x--' + B + 'y']);
});

test('parseFrame accepts JSON objects only', () => {
  assert.deepEqual(parseFrame('{"type":"heartbeat"}'), { type: 'heartbeat' });
  assert.equal(parseFrame('[1]'), null);
  assert.equal(parseFrame('nope'), null);
  assert.equal(parseFrame('null'), null);
});

test('SSE: a CR ending one chunk, then an empty chunk, then LF is still one line end', () => {
  const p = createSseParser();
  assert.deepEqual(p.push('data: 1\r'), []);
  assert.deepEqual(p.push(''), []);
  assert.deepEqual(p.push('\n'), [], 'the LF completes CRLF; it is not a blank line');
  assert.deepEqual(p.push('\n').map((e) => e.data), ['1']);
});
