// Every transport of the browser client, through lighttpd, in real Chromium: two pages of the
// chat demo in one room; a message typed in one appears in the other, and the delay from the
// click on #send to the entry in the other page's log is measured.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openChat, stateOf, messagesOf, waitFor, describe, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

const TRANSPORTS = ['auto', 'sse', 'longpoll', 'jsonp', 'iframe', 'multipart', 'ndjson', 'poll'];
// The active transport the page reports for each choice.
const ACTIVE = { auto: 'sse' };
// A message must reach the other page within LATENCY_MS. The `poll` transport asks every
// pollInterval (3000 ms by default, which the demo keeps: docs/client.md), so for it the bound
// is that interval plus the same 1 s.
const LATENCY_MS = 1000;
const POLL_INTERVAL_MS = 3000;

let stack;
let browser;

before(async () => ({ stack, browser } = await openStackAndBrowser()));
after(() => closeStackAndBrowser(stack, browser));

for (const transport of TRANSPORTS) {
  test(`transport ${transport}: a message typed in one page appears in the other`, async (t) => {
    const room = `t-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    const channel = `room.${room}`;
    // One message of history, so every page has something to show on join (last=50) and the
    // long-poll transports are answered (state "open") at once.
    await stack.publish(channel, { nick: 'srv', text: 'history' });

    const context = await browser.newContext();
    const pages = {};
    try {
      pages.sender = await openChat(context, stack, { room, nick: 'ann', transport, share: '0' });
      pages.receiver = await openChat(context, stack, { room, nick: 'bob', transport, share: '0' });
      const ctx = () => describe(pages);

      for (const page of Object.values(pages)) {
        await waitFor(async () => (await stateOf(page)) === 'open', { timeout: 10000, what: 'state open' })
          .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));
        const active = await page.textContent('#active-transport');
        assert.equal(active, ACTIVE[transport] || transport, `active transport\n${await ctx()}`);
        assert.equal(await page.textContent('#role'), 'solo');
        const shown = await messagesOf(page);
        assert.deepEqual(shown.map((m) => m.text), ['history'], `history on join\n${await ctx()}`);
      }
      if (transport !== 'poll') {
        // Both pages hold a request on the channel before anything is sent.
        await waitFor(async () => { const c = await stack.channel(channel); return c && c.subscribers === 2 ? c : null; },
          { timeout: 5000, what: `2 subscribers on ${channel}` })
          .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));
      }

      await pages.receiver.evaluate(() => {
        window.__arrived = {};
        new MutationObserver((records) => {
          const now = Date.now();
          for (const r of records) {
            for (const n of r.addedNodes) {
              if (n.nodeType === 1 && n.getAttribute('data-kind') === 'message') {
                const text = n.querySelector('.text').textContent;
                if (!(text in window.__arrived)) window.__arrived[text] = now;
              }
            }
          }
        }).observe(document.getElementById('log'), { childList: true });
      });
      await pages.sender.evaluate(() => {
        document.getElementById('send').addEventListener('click', () => { window.__clickedAt = Date.now(); }, true);
      });

      const text = `hello over ${transport} ${crypto.randomBytes(4).toString('hex')}`;
      await pages.sender.bringToFront(); // background tabs get throttled animation frames
      await pages.sender.fill('#message', text);
      await pages.sender.click('#send');
      const bound = transport === 'poll' ? POLL_INTERVAL_MS + LATENCY_MS : LATENCY_MS;
      // Wait longer than the bound, so that a late message is measured and reported.
      const arrivedAt = await pages.receiver.waitForFunction((s) => window.__arrived[s], text, { timeout: bound + 5000 })
        .then((h) => h.jsonValue())
        .catch(async () => assert.fail(`"${text}" did not reach the other page within ${bound + 5000} ms\n${await ctx()}`));
      const clickedAt = await pages.sender.evaluate(() => window.__clickedAt);
      const latency = arrivedAt - clickedAt;
      t.diagnostic(`${transport}: click -> other page ${latency} ms`);
      assert.ok(latency <= bound, `"${text}" reached the other page after ${latency} ms (expected <= ${bound} ms)\n${await ctx()}`);

      // The sender sees its own message too, with the same id, and nothing is shown twice.
      await pages.sender.waitForFunction((s) => Array.from(document.querySelectorAll('#log li[data-kind=message] .text'))
        .some((e) => e.textContent === s), text, { timeout: bound + 2000 })
        .catch(async () => assert.fail(`the sender never showed its own message\n${await ctx()}`));
      const a = await messagesOf(pages.sender);
      const b = await messagesOf(pages.receiver);
      assert.deepEqual(a.map((m) => m.text), ['history', text], `sender log\n${await ctx()}`);
      assert.deepEqual(b, a, `both pages show the same entries\n${await ctx()}`);
      assert.equal(new Set(a.map((m) => m.id)).size, a.length, 'ids are unique');
      assert.deepEqual(b[1].nick, 'ann');
      for (const page of Object.values(pages)) {
        assert.deepEqual(page.dialogs, []);
        assert.ok(!page.logs.some((l) => l.startsWith('[pageerror]')), `page errors\n${await ctx()}`);
      }
    } finally {
      await context.close();
    }
  });
}

// Two tabs of one browser with share=0 are two clients: each holds its own request, also in a
// room without history (where the first long-poll/JSONP request is held, not answered).
for (const transport of ['sse', 'longpoll', 'jsonp', 'iframe', 'multipart', 'ndjson']) {
  test(`transport ${transport}: two tabs of one browser (share=0) each hold a request in an empty room`, async () => {
    const room = `e-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    const channel = `room.${room}`;
    const context = await browser.newContext();
    const pages = {};
    try {
      pages.first = await openChat(context, stack, { room, nick: 'ann', transport, share: '0' });
      pages.second = await openChat(context, stack, { room, nick: 'bob', transport, share: '0' });
      await waitFor(async () => { const c = await stack.channel(channel); return c && c.subscribers === 2 ? c : null; },
        { timeout: 5000, what: `2 subscribers on ${channel}` })
        .catch(async (e) => assert.fail(`${e.message}; stats.held ${JSON.stringify((await stack.stats()).held)}\n${await describe(pages)}`));
      // And a message published now reaches both at once.
      await stack.publish(channel, { nick: 'srv', text: 'first' });
      for (const [name, page] of Object.entries(pages)) {
        await waitFor(async () => (await messagesOf(page)).length === 1, { timeout: LATENCY_MS, interval: 20, what: `${name}: the message` })
          .catch(async (e) => assert.fail(`${e.message}\n${await describe(pages)}`));
      }
    } finally {
      await context.close();
    }
  });
}
