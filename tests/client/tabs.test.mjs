// Tab sharing with the BroadcastChannel heartbeat election (node has BroadcastChannel but no
// Web Locks, which is the fallback path browsers without navigator.locks take): one leader
// holds the connection, a follower gets its frames, and takes over with the cursor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from '../../src/client/src/client.js';

const json = (body) => new Response(JSON.stringify(body), { status: 200, headers: { 'Content-Type': 'application/json' } });
const query = (url) => Object.fromEntries(new URL(url, 'http://x').searchParams);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// Resolves when cond() is true (checked every 20 ms); rejects after `ms`.
async function until(cond, ms, what) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await sleep(20);
  }
}
const msg = (id, text) => ({ channel: 'room.t', id, event: 'message', data: text, time: 1 });

// A fetch that serves `answers` in order, then holds each request until it is aborted.
function fakeFetch(answers) {
  const urls = [];
  const fetch = (url, init = {}) => {
    urls.push(String(url));
    const a = answers.shift();
    if (a) return Promise.resolve(a.gate).then(() => json(a.body));
    return new Promise((_, reject) => init.signal?.addEventListener('abort', () => reject(new Error('aborted'))));
  };
  return { fetch, urls };
}

test('leader/follower over BroadcastChannel, history backfill, takeover with the cursor', async (t) => {
  assert.equal(typeof BroadcastChannel, 'function');
  let openGate;
  const gate = new Promise((r) => { openGate = r; });
  const a = fakeFetch([
    { body: { messages: [msg('E-1', 'one')], cursor: 'room.t:E-1', session: 'SA' } },
    { gate, body: { messages: [msg('E-2', 'two')], cursor: 'room.t:E-2' } },
  ]);
  const b = fakeFetch([
    { body: { messages: [msg('E-1', 'one')], cursor: 'room.t:E-1' } }, // B's history poll
  ]);
  const gotA = [], gotB = [], roles = { a: [], b: [] };
  const subA = new Client({ fetch: a.fetch }).subscribe('room.t', {
    transport: 'longpoll', last: 10,
    onMessage: (m) => gotA.push(m.data), onRole: (r) => roles.a.push(r),
  });
  t.after(() => subA.close());
  await until(() => subA.role === 'leader', 4000, 'A to lead'); // no leader heard: A claims
  await until(() => gotA.length === 1, 1000, 'A history');
  const subB = new Client({ fetch: b.fetch }).subscribe('room.t', {
    transport: 'longpoll', last: 10,
    onMessage: (m) => gotB.push(m.data), onRole: (r) => roles.b.push(r),
  });
  t.after(() => subB.close());
  // B hears A's heartbeat, follows and polls the history; then A receives "two"
  await until(() => subB.role === 'follower' && gotB.length === 1, 4000, 'B to follow');
  openGate();
  await until(() => gotB.length === 2, 2000, 'B to get the live message');
  assert.deepEqual(query(b.urls[0]), { transport: 'poll', last: '10' });
  assert.equal(b.urls.length, 1, 'a follower holds no connection');
  assert.deepEqual(gotA, ['one', 'two']);
  assert.deepEqual(gotB, ['one', 'two'], 'history once (deduped), then the live message');
  assert.equal(subB.state, 'open', 'the follower mirrors the leader state');

  subA.close(); // resigns; B takes over
  await until(() => subB.role === 'leader' && b.urls.length === 2, 2000, 'B to take over');
  assert.equal(b.urls.length, 2);
  const q = query(b.urls[1]);
  assert.equal(q.cursor, 'room.t:E-2', 'the new leader resumes where the old one was');
  assert.equal(q.session, 'new');
  assert.equal(q.last, undefined, 'a cursor covering every channel replaces last=');
  assert.deepEqual(roles, { a: ['leader'], b: ['follower', 'leader'] });
  subB.close();
});
