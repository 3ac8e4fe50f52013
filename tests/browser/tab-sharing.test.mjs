// Three tabs of one origin (one browser context, share=1) hold one stream between them: one
// leader, two followers, stats held.total == 1, and all three show a message published after
// they joined, once. Then the leader's tab closes: a follower takes over with one stream, and
// the next message reaches both remaining tabs once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openChat, stateOf, messagesOf, waitFor, describe, sleep, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

let stack;
let browser;

before(async () => ({ stack, browser } = await openStackAndBrowser()));
after(() => closeStackAndBrowser(stack, browser));

test('three tabs of one origin share one stream', async (t) => {
  const room = `share-${crypto.randomBytes(3).toString('hex')}`;
  const channel = `room.${room}`;
  await stack.publish(channel, { nick: 'srv', text: 'history' });
  const context = await browser.newContext();
  const pages = {};
  const ctx = () => describe(pages);
  try {
    for (const nick of ['ann', 'bob', 'cid']) {
      pages[nick] = await openChat(context, stack, { room, nick, share: '1' });
      await waitFor(async () => (await stateOf(pages[nick])) === 'open', { timeout: 10000, what: `${nick}: state open` })
        .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));
    }
    const roles = {};
    for (const [nick, page] of Object.entries(pages)) {
      roles[nick] = await waitFor(async () => { const r = await page.textContent('#role'); return r === 'leader' || r === 'follower' ? r : null; },
        { timeout: 5000, what: `${nick}: a role` });
    }
    t.diagnostic(`roles ${JSON.stringify(roles)}`);
    assert.deepEqual(Object.values(roles).sort(), ['follower', 'follower', 'leader'], `one leader\n${await ctx()}`);
    for (const [nick, page] of Object.entries(pages)) {
      assert.deepEqual((await messagesOf(page)).map((m) => m.text), ['history'], `${nick}: history on join\n${await ctx()}`);
      assert.equal(await page.textContent('#active-transport'), 'sse', `${nick}: the leader's transport`);
    }

    // One held request for the three tabs, steadily (sampled for 1 s).
    await waitFor(async () => (await stack.stats()).held.total === 1, { timeout: 3000, what: 'held.total == 1' })
      .catch(async (e) => assert.fail(`${e.message}: ${JSON.stringify((await stack.stats()).held)}\n${await ctx()}`));
    for (let i = 0; i < 5; i++) {
      const s = await stack.stats();
      assert.equal(s.held.total, 1, `held while three tabs are open: ${JSON.stringify(s.held)}, sessions ${s.sessions}`);
      assert.equal(s.sessions, 1, 'one session');
      await sleep(200);
    }

    const pub = await stack.publish(channel, { nick: 'srv', text: 'to all tabs' });
    assert.equal(pub.subscribers, 1, `one subscriber on the server: ${JSON.stringify(pub)}`);
    for (const [nick, page] of Object.entries(pages)) {
      await waitFor(async () => (await messagesOf(page)).length >= 2, { timeout: 2000, what: `${nick}: the new message` })
        .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));
    }
    await sleep(300);
    for (const [nick, page] of Object.entries(pages)) {
      const shown = await messagesOf(page);
      assert.deepEqual(shown.map((m) => m.text), ['history', 'to all tabs'], `${nick}: messages\n${await ctx()}`);
      assert.equal(shown[1].id, pub.id, `${nick}: id`);
      assert.deepEqual(page.dialogs, []);
    }
    const s = await stack.stats();
    assert.equal(s.held.total, 1, `held after the message: ${JSON.stringify(s.held)}`);

    // The leader's tab closes: a follower takes over, still one stream, nothing lost or doubled.
    const leader = Object.keys(roles).find((n) => roles[n] === 'leader');
    await pages[leader].close({ runBeforeUnload: true });
    delete pages[leader];
    await waitFor(async () => {
      const r = await Promise.all(Object.values(pages).map((p) => p.textContent('#role')));
      return r.sort().join() === 'follower,leader';
    }, { timeout: 5000, what: 'a new leader' }).catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));
    await waitFor(async () => { const st = await stack.stats(); return st.held.total === 1 && st.sessions === 1; },
      { timeout: 3000, what: 'one held request and one session after the takeover' })
      .catch(async (e) => assert.fail(`${e.message}: ${JSON.stringify(await stack.stats())}\n${await ctx()}`));
    const pub2 = await stack.publish(channel, { nick: 'srv', text: 'after takeover' });
    for (const [nick, page] of Object.entries(pages)) {
      await waitFor(async () => (await messagesOf(page)).length >= 3, { timeout: 2000, what: `${nick}: the message after the takeover` })
        .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));
    }
    await sleep(300);
    for (const [nick, page] of Object.entries(pages)) {
      const shown = await messagesOf(page);
      assert.deepEqual(shown.map((m) => m.text), ['history', 'to all tabs', 'after takeover'], `${nick}: messages after the takeover\n${await ctx()}`);
      assert.equal(shown[2].id, pub2.id);
    }
  } finally {
    await context.close();
  }
});
