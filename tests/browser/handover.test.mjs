// Hand-over restarts (SIGUSR2, docs/operations.md) seen from a real browser through lighttpd: a
// page's native EventSource and the client (sse and long-poll) keep every message across two
// hand-overs, none twice, and never see an error answer (a native EventSource would close for
// good on a 503).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openLiveChat, messagesOf, linesOf, waitFor, describe, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

let stack;
let browser;

before(async () => ({ stack, browser } = await openStackAndBrowser()));
after(() => closeStackAndBrowser(stack, browser));

test('a native EventSource follows two hand-overs without an error or a lost message', async (t) => {
  const channel = `room.es-${crypto.randomBytes(3).toString('hex')}`;
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(`${stack.url}/`);
    await page.evaluate((ch) => {
      window.got = [];
      window.errors = [];
      const es = new EventSource(`/push/sub/${ch}`);
      window.es = es;
      es.addEventListener('message', (e) => window.got.push(JSON.parse(e.data).data.n));
      es.onerror = () => window.errors.push(es.readyState); // 0 = reconnecting, 2 = closed for good
    }, channel);
    await waitFor(async () => { const c = await stack.channel(channel); return c && c.subscribers === 1; },
      { timeout: 5000, what: `the EventSource on ${channel}` });
    let n = 0;
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 3; i++) await stack.publish(channel, { n: n++ });
      const pid = await stack.handoverHoldfast();
      t.diagnostic(`hand-over ${round + 1}: serving pid ${pid}`);
    }
    for (let i = 0; i < 3; i++) await stack.publish(channel, { n: n++ });
    const want = Array.from({ length: n }, (_, i) => i);
    await waitFor(async () => (await page.evaluate(() => window.got.length)) >= n,
      { timeout: 20000, what: `${n} messages` })
      .catch(async (e) => assert.fail(`${e.message}: ${JSON.stringify(await page.evaluate(() => window.got))}\n${stack.holdfastLog()}`));
    assert.deepEqual(await page.evaluate(() => window.got), want);
    assert.notEqual(await page.evaluate(() => window.es.readyState), 2, 'the EventSource closed for good');
    assert.ok(!(await page.evaluate(() => window.errors)).includes(2), 'an error closed the EventSource');
  } finally {
    await context.close();
  }
});

for (const transport of ['sse', 'longpoll']) {
  test(`client, transport ${transport}: resumes across a hand-over without loss, duplicates, gap or error`, async () => {
    const room = `h-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    const channel = `room.${room}`;
    const context = await browser.newContext();
    const pages = {};
    try {
      await stack.publish(channel, { nick: 'srv', text: 'before-1' });
      const page = await openLiveChat(context, stack, pages, room, transport);
      const ctx = () => describe(pages);
      await stack.handoverHoldfast();
      const after = ['after-1', 'after-2', 'after-3'];
      for (const text of after) await stack.publish(channel, { nick: 'srv', text });
      const expected = ['before-1', ...after];
      await waitFor(async () => (await messagesOf(page)).length >= expected.length, { timeout: 20000, what: `${expected.length} messages` })
        .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}\nholdfast:\n${stack.holdfastLog()}`));
      await new Promise((r) => setTimeout(r, 500));
      const shown = await messagesOf(page);
      assert.deepEqual(shown.map((m) => m.text), expected, `messages shown\n${await ctx()}`);
      assert.equal(new Set(shown.map((m) => m.id)).size, shown.length, 'every message once');
      assert.deepEqual(await linesOf(page, 'gap'), [], `no gap line\n${await ctx()}`);
      assert.deepEqual(await linesOf(page, 'error'), [], `no error line\n${await ctx()}`);
    } finally {
      await context.close();
    }
  });
}
