// Markup in a message is shown as text on every transport: the entry's .text textContent is
// the string typed, no dialog opens, and no <script> element is ever added to #log. The jsonp
// and iframe transports put the message inside a <script> on the wire, so they also check the
// server's script-context escaping (</script>, <!--, U+2028/U+2029).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openChat, stateOf, messagesOf, waitFor, describe, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

const PAYLOADS = [
  '<script>alert(1)</script>',
  '</script><script>alert(2)</script><!--<script>alert(3)</script>',
  '<img src=x onerror="alert(4)"> \u2028\u2029 "quotes" \'single\' & &amp; \\u003c/script\\u003e',
];
const NICK = '<b onmouseover=alert(5)>mallory</b>';

let stack;
let browser;

before(async () => ({ stack, browser } = await openStackAndBrowser()));
after(() => closeStackAndBrowser(stack, browser));

for (const transport of ['auto', 'jsonp', 'iframe', 'longpoll', 'multipart', 'ndjson']) {
  test(`transport ${transport}: markup in messages is shown as text`, async () => {
    const room = `x-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    // A message of history, so the long-poll transports are answered at once on join.
    await stack.publish(`room.${room}`, { nick: 'srv', text: 'history' });
    const context = await browser.newContext();
    const pages = {};
    try {
      pages.sender = await openChat(context, stack, { room, nick: NICK, transport, share: '0' });
      pages.receiver = await openChat(context, stack, { room, nick: 'bob', transport, share: '0' });
      const ctx = () => describe(pages);
      for (const page of Object.values(pages)) {
        await page.evaluate(() => {
          window.__scripts = [];
          new MutationObserver((records) => {
            for (const r of records) {
              for (const n of r.addedNodes) {
                if (n.nodeType !== 1) continue;
                if (n.tagName === 'SCRIPT' || n.querySelector('script, img, b, iframe')) window.__scripts.push(n.outerHTML);
              }
            }
          }).observe(document.getElementById('log'), { childList: true, subtree: true });
        });
      }
      await waitFor(async () => { const c = await stack.channel(`room.${room}`); return c && c.subscribers === 2; },
        { timeout: 10000, what: 'both pages subscribed' })
        .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));

      for (const text of PAYLOADS) {
        // A background tab gets throttled animation frames, which Playwright's actionability
        // checks wait for: type in the front tab.
        await pages.sender.bringToFront();
        await pages.sender.fill('#message', text);
        await pages.sender.click('#send');
        // The input is emptied once the publish succeeded: send the next one after that.
        await pages.sender.waitForFunction(() => document.getElementById('message').value === '', null, { timeout: 5000, polling: 50 });
      }
      for (const [name, page] of Object.entries(pages)) {
        await waitFor(async () => (await messagesOf(page)).length >= PAYLOADS.length + 1, { timeout: 5000, what: `${name}: ${PAYLOADS.length} messages` })
          .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));
        const shown = (await messagesOf(page)).slice(1);
        assert.deepEqual(shown.map((m) => m.text), PAYLOADS, `${name}: .text textContent\n${await ctx()}`);
        assert.deepEqual(shown.map((m) => m.nick), PAYLOADS.map(() => NICK), `${name}: .nick textContent`);
        assert.deepEqual(await page.evaluate(() => window.__scripts), [], `${name}: elements added inside #log`);
        assert.equal(await page.locator('#log script').count(), 0, `${name}: <script> in #log`);
        assert.equal(await page.locator('#log li[data-kind=message] *:not(span)').count(), 0, `${name}: only spans inside entries`);
      }
      // Let any injected script run before checking that no dialog opened.
      await new Promise((r) => setTimeout(r, 300));
      for (const [name, page] of Object.entries(pages)) {
        assert.deepEqual(page.dialogs, [], `${name}: dialogs\n${await ctx()}`);
        assert.deepEqual(page.logs.filter((l) => l.startsWith('[pageerror]')), [], `${name}: page errors`);
        assert.equal(await stateOf(page), 'open', `${name}: still open`);
      }
    } finally {
      await context.close();
    }
  });
}
