// A closed page frees its server session promptly: the client's pagehide handler closes the
// session with navigator.sendBeacon, so the held request and the session go at once instead of
// waiting for a heartbeat write to fail (streams) or the poll timeout (long-poll behind
// lighttpd, which never tells the backend that a client left).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openChat, stateOf, waitFor, describe, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

let stack;
let browser;

before(async () => ({ stack, browser } = await openStackAndBrowser()));
after(() => closeStackAndBrowser(stack, browser));

for (const transport of ['auto', 'longpoll']) {
  test(`transport ${transport}: closing the page frees its session within 2 s`, async (t) => {
    const room = `s-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    const baseline = await waitFor(async () => { const s = await stack.stats(); return s.held.total === 0 && s.sessions === 0 ? s : null; },
      { timeout: 5000, what: 'no session and no held request before the test' });
    // A message of history: the first long-poll is answered at once, which gives the page its
    // session id (a long-poll's session id arrives with its first answer).
    await stack.publish(`room.${room}`, { nick: 'srv', text: 'history' });
    const context = await browser.newContext();
    const pages = {};
    try {
      pages.page = await openChat(context, stack, { room, nick: 'ann', transport, share: '0' });
      const page = pages.page;
      await waitFor(async () => (await stateOf(page)) === 'open', { timeout: 10000, what: 'state open' });
      const open = await waitFor(async () => { const s = await stack.stats(); return s.sessions >= 1 && s.held.total >= 1 ? s : null; },
        { timeout: 5000, what: 'stats: sessions >= 1 and held.total >= 1' })
        .catch(async (e) => assert.fail(`${e.message}\n${await describe(pages)}`));
      const session = await page.evaluate(() => window.chat.subscription.session);
      assert.ok(session, 'the page has a session id');
      t.diagnostic(`open: sessions ${open.sessions}, held ${JSON.stringify(open.held)}`);

      const t0 = Date.now();
      await page.close({ runBeforeUnload: true });
      const freed = await waitFor(async () => {
        const s = await stack.stats();
        return s.held.total === baseline.held.total && s.sessions === baseline.sessions ? s : null;
      }, { timeout: 2000, interval: 25, what: `held.total and sessions back to ${baseline.held.total}/${baseline.sessions}` })
        .catch(async (e) => assert.fail(`${e.message} after page.close({runBeforeUnload: true})\nstats now: ${JSON.stringify(await stack.stats())}`));
      t.diagnostic(`freed ${Date.now() - t0} ms after page.close: sessions ${freed.sessions}, held.total ${freed.held.total}`);
      // The session is gone for good: the control socket no longer knows it.
      const r = await fetch(`${stack.url}/push/ctl/session/${session}`);
      assert.equal(r.status, 404, `GET /push/ctl/session/<id> after close: ${r.status} ${await r.text()}`);
    } finally {
      await context.close();
    }
  });
}

// The same in a room without history, where every long-poll after the first is held: the
// client's first request of a new session is answered at once (timeout=0), so the page knows
// its session id before it holds anything and can close it on pagehide (lighttpd never tells
// the backend that the client left).
for (const transport of ['longpoll', 'jsonp']) {
  test(`transport ${transport}: closing the page before the first answer frees its session within 2 s`, async () => {
    const room = `q-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    // Relative to what is held now (an earlier case of this kind leaves its request held).
    const baseline = await stack.stats();
    const context = await browser.newContext();
    try {
      const page = await openChat(context, stack, { room, nick: 'ann', transport, share: '0' });
      await waitFor(async () => { const s = await stack.stats(); return s.sessions > baseline.sessions && s.held.total > baseline.held.total ? s : null; },
        { timeout: 5000, what: 'stats: one more session and held request' });
      await page.close({ runBeforeUnload: true });
      await waitFor(async () => {
        const s = await stack.stats();
        return s.held.total === baseline.held.total && s.sessions === baseline.sessions ? s : null;
      }, { timeout: 2000, interval: 25, what: `held.total and sessions back to ${baseline.held.total}/${baseline.sessions}` })
        .catch(async (e) => assert.fail(`${e.message} after page.close({runBeforeUnload: true})\nstats now: ${JSON.stringify(await stack.stats())}`));
    } finally {
      await context.close();
    }
  });
}
