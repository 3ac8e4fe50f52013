// The Subscription state machine against a scripted fake fetch (no server, no browser):
// sessions, cursor resume, dedupe, gaps, states, fallbacks and error handling.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/src/client.js';

const json = (status, body, headers = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

// A fetch that answers request i with script[i](url, init); after the script it holds the
// request until aborted. Returns {fetch, urls, done} where done resolves at the script's end.
function scriptedFetch(script) {
  const urls = [];
  let finish;
  const done = new Promise((r) => { finish = r; });
  const fetch = (url, init = {}) => {
    const i = urls.length;
    urls.push(String(url));
    if (i < script.length) return Promise.resolve(script[i](url, init));
    finish();
    return new Promise((_, reject) => {
      init.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    });
  };
  return { fetch, urls, done };
}

// Every subscription made through track() is closed when the file's tests end (a failed
// assertion must not leave timers that keep node running).
const live = [];
after(() => live.forEach((s) => s.close()));
const track = (sub) => { live.push(sub); return sub; };

const query = (url) => Object.fromEntries(new URL(url, 'http://x').searchParams);
const fastBackoff = { base: 1, cap: 5, random: () => 0 };

test('longpoll: session=new then reuse, cursor resume, dedupe, gaps, states', async () => {
  const m = (id, text) => ({ channel: 'room.a', id, event: 'message', data: { text }, time: 1 });
  const { fetch, urls, done } = scriptedFetch([
    () => json(200, { messages: [m('E-1', 'one'), m('E-2', 'two')], cursor: 'room.a:E-2', session: 'S1' }),
    () => json(200, { messages: [], cursor: 'room.a:E-2', heartbeat: true }),
    // a resend of E-2 (e.g. piggyback) must not show twice
    () => json(200, { messages: [m('E-2', 'two'), m('E-3', 'three')], cursor: 'room.a:E-3' }),
    () => json(200, {
      messages: [m('N-1', 'after gap')], cursor: 'room.a:N-1',
      gap: [{ channel: 'room.a', requested: 'E-3', first_available: 'N-1', reason: 'epoch' }],
    }),
  ]);
  const got = [], gaps = [], states = [];
  const client = new Client({ base: '/push', fetch, backoff: fastBackoff, shareTabs: false });
  const sub = track(client.subscribe('room.a', {
    transport: 'longpoll', last: 50,
    onMessage: (msg) => got.push(msg.data.text),
    onGap: (g) => gaps.push(g),
    onState: (s) => states.push(s),
  }));
  await done;
  assert.deepEqual(got, ['one', 'two', 'three', 'after gap']);
  assert.deepEqual(gaps, [{ channel: 'room.a', requested: 'E-3', first_available: 'N-1', reason: 'epoch' }]);
  assert.equal(urls[0].split('?')[0], '/push/sub/room.a');
  assert.deepEqual(query(urls[0]), { transport: 'longpoll', last: '50', session: 'new', timeout: '0' });  // first request of a new session: answered at once
  assert.deepEqual(query(urls[1]), { transport: 'longpoll', cursor: 'room.a:E-2', session: 'S1', timeout: '25' });
  assert.equal(query(urls[4]).cursor, 'room.a:N-1');
  assert.equal(sub.cursor, 'room.a:N-1');
  assert.deepEqual(states, ['connecting', 'open']);
  sub.close();
  assert.deepEqual(states, ['connecting', 'open', 'closed']);
  assert.match(urls.at(-1), /^\/push\/ctl\/session\/S1\/close$/, 'close() closes the session');
});

test('longpoll: unknown session → session=new at once; 503 → retry; 409 → closed', async () => {
  const { fetch, urls, done } = scriptedFetch([
    () => json(200, { messages: [], cursor: 'c:E-0', session: 'OLD' }),
    () => json(404, { error: 'unknown_session', message: 'session OLD is unknown or expired' }),
    () => json(503, { error: 'overloaded', message: 'busy' }, { 'Retry-After': '0' }),
    () => json(200, { messages: [], cursor: 'c:E-0', session: 'NEW' }),
    () => json(409, { error: 'superseded', message: 'a newer request took over' }),
  ]);
  const states = [], errors = [];
  const client = new Client({ fetch, backoff: fastBackoff, shareTabs: false });
  const sub = track(client.subscribe(['c'], {
    transport: 'longpoll', onState: (s) => states.push(s), onError: (e) => errors.push(e),
  }));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(query(urls[1]).session, 'OLD');
  assert.equal(query(urls[2]).session, 'new');
  assert.equal(query(urls[3]).session, 'new');
  assert.equal(query(urls[4]).session, 'NEW');
  assert.equal(sub.state, 'closed');
  assert.deepEqual(states, ['connecting', 'open', 'reconnecting', 'open', 'closed']);
  assert.equal(errors.at(-1).code, 'closed');
  assert.equal(errors.at(-1).reason, 'superseded');
  assert.equal(urls.length, 5, 'nothing after a 409');
  void done;
});

test('400 bad channel from the server is fatal: no retry loop', async () => {
  const { fetch, urls } = scriptedFetch([
    () => json(403, { error: 'token_required', message: 'channel private.x is private' }),
  ]);
  const errors = [];
  const sub = track(new Client({ fetch, backoff: fastBackoff, shareTabs: false }).subscribe('private.x', {
    transport: 'poll', onError: (e) => errors.push(e),
  }));
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(sub.state, 'closed');
  assert.equal(errors[0].status, 403);
  assert.equal(errors[0].fatal, true);
  assert.equal(urls.length, 1);
});

// A streaming Response whose body is written chunk by chunk.
function streamResponse(contentType, chunks) {
  const enc = new TextEncoder();
  const body = new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? enc.encode(c) : c);
      controller.close();
    },
  });
  return new Response(body, { status: 200, headers: { 'Content-Type': contentType } });
}

test('ndjson stream: frames split mid-line, reconnect frame resumes with its cursor', async () => {
  const hello = '{"type":"hello","session":"S9","cursor":"r:E-0","heartbeat":5}\n';
  const msg = '{"type":"message","channel":"r","id":"E-1","event":"chat","data":{"t":"✓"},"time":1,"cursor":"r:E-1"}\n';
  const bytes = new TextEncoder().encode(hello + msg + '{"type":"heartbeat","time":2}\n{"type":"reconnect","cursor":"r:E-1","reason":"max_stream_age"}\n');
  const chunks = [];
  for (let i = 0; i < bytes.length; i += 7) chunks.push(bytes.subarray(i, i + 7));
  const { fetch, urls, done } = scriptedFetch([
    (url, init) => {
      assert.equal(init.headers.Accept, 'application/x-ndjson');
      return streamResponse('application/x-ndjson', chunks);
    },
  ]);
  const got = [];
  const sub = track(new Client({ fetch, backoff: fastBackoff, shareTabs: false }).subscribe('r', {
    transport: 'ndjson', onMessage: (m) => got.push(m),
  }));
  await done;
  assert.deepEqual(got, [{ channel: 'r', id: 'E-1', event: 'chat', data: { t: '✓' }, time: 1 }]);
  assert.deepEqual(query(urls[1]), { transport: 'ndjson', cursor: 'r:E-1', session: 'S9' });
  assert.equal(sub.heartbeat, 5);
  sub.close();
});

test('multipart stream: boundary from Content-Type, parts across chunks, closed frame ends it', async () => {
  const b = 'holdfast-QQ';
  const part = (j) => 'Content-Type: application/json\r\n\r\n' + j + '\r\n--' + b;
  const text = '--' + b + '\r\n' + part('{"type":"hello","cursor":"r:E-0","heartbeat":25}') +
    '\r\n' + part('{"type":"message","channel":"r","id":"E-1","data":1,"time":1,"cursor":"r:E-1"}') +
    '\r\n' + part('{"type":"closed","reason":"session closed"}') + '--\r\n';
  const chunks = text.match(/[\s\S]{1,5}/g);
  const { fetch, urls } = scriptedFetch([() => streamResponse('multipart/x-mixed-replace; boundary=' + b, chunks)]);
  const got = [], states = [];
  track(new Client({ fetch, backoff: fastBackoff, shareTabs: false }).subscribe('r', {
    transport: 'multipart', onMessage: (m) => got.push(m.data), onState: (s) => states.push(s),
  }));
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(got, [1]);
  assert.deepEqual(states, ['connecting', 'open', 'closed']);
  assert.equal(urls.length, 1, 'a closed frame is final');
});

test('a stream that drops reconnects at once, then backs off', async () => {
  const hello = '{"type":"hello","session":"S","cursor":"r:E-3","heartbeat":25}\n';
  const at = [];
  const { fetch: inner, urls, done } = scriptedFetch([
    () => streamResponse('application/x-ndjson', [hello]),
    () => Promise.reject(new TypeError('network down')),
    () => streamResponse('application/x-ndjson', [hello]),
  ]);
  const fetch = (...args) => { at.push(Date.now()); return inner(...args); };
  const states = [];
  // ceiling 300 ms from the second failure on; random 0.99 → 297 ms
  const backoff = { base: 300, cap: 300, random: () => 0.99 };
  const sub = track(new Client({ fetch, backoff, shareTabs: false }).subscribe('r', {
    transport: 'ndjson', onState: (s) => states.push(s),
  }));
  await done;
  assert.equal(query(urls[1]).cursor, 'r:E-3');
  assert.equal(query(urls[2]).cursor, 'r:E-3');
  // open, dropped (reconnecting), failed (still reconnecting), open, dropped again
  assert.deepEqual(states, ['connecting', 'open', 'reconnecting', 'open', 'reconnecting']);
  assert.ok(at[1] - at[0] < 100, `first reconnect after a drop is immediate (${at[1] - at[0]} ms)`);
  assert.ok(at[2] - at[1] >= 250, `a failed reconnect backs off (${at[2] - at[1]} ms)`);
  assert.ok(at[3] - at[2] < 100, 'success reset the backoff: the next drop reconnects at once');
  sub.close();
});

test('publish POSTs JSON to <ctl>/pub/<channel> with the event and reports errors', async () => {
  const calls = [];
  const fetch = async (url, init) => {
    calls.push({ url, init });
    if (url.includes('bad')) return json(400, { error: 'bad_json', message: 'parse error at 3' });
    return json(202, { channel: 'room.a', id: 'E-1', subscribers: 0 });
  };
  const client = new Client({ base: '/push', fetch });
  const res = await client.publish('room.a', { nick: 'x', text: '<b>' }, { event: 'chat' });
  assert.deepEqual(res, { channel: 'room.a', id: 'E-1', subscribers: 0, status: 202 });
  assert.equal(calls[0].url, '/push/ctl/pub/room.a?event=chat');
  assert.equal(calls[0].init.method, 'POST');
  assert.equal(calls[0].init.headers['Content-Type'], 'application/json');
  assert.equal(calls[0].init.body, '{"nick":"x","text":"<b>"}');
  await assert.rejects(client.publish('room.bad', 1), (e) => e.status === 400 && e.code === 'bad_json');
  assert.throws(() => client.publish('no spaces', 1), TypeError);
});

test("auto: EventSource first; after 3 failures without ever working, long-poll", async () => {
  const opened = [];
  class FakeEventSource {
    constructor(url) { opened.push(url); setTimeout(() => this.onerror?.({}), 1); }
    addEventListener() {}
    close() {}
  }
  globalThis.EventSource = FakeEventSource;
  after(() => { delete globalThis.EventSource; });
  const { fetch, urls, done } = scriptedFetch([
    () => json(200, { messages: [], cursor: 'a:E-0', session: 'S' }),
  ]);
  const transports = [];
  const sub = track(new Client({ fetch, backoff: fastBackoff, shareTabs: false }).subscribe('a', {
    onState: (s, info) => transports.push(s + ':' + info.transport),
  }));
  await done;
  assert.equal(opened.length, 3);
  assert.deepEqual(query(opened[0]), { transport: 'sse', session: 'new' });
  assert.equal(query(urls[0]).transport, 'longpoll');
  assert.equal(query(urls[1]).transport, 'longpoll');
  assert.equal(sub.transport, 'longpoll');
  assert.deepEqual(transports, ['connecting:sse', 'open:longpoll']);
});
