// The backend restarts (SIGTERM, then a new process on the same sockets and state dir) while a
// page is subscribed: after it comes back, 3 messages published over the control socket show
// up together with the earlier ones, none twice, and no "messages may be missing" line.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { openLiveChat, stateOf, messagesOf, linesOf, waitFor, describe, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

let stack;
let browser;

before(async () => ({ stack, browser } = await openStackAndBrowser()));
after(() => closeStackAndBrowser(stack, browser));

for (const transport of ['sse', 'longpoll']) {
  test(`transport ${transport}: resumes across a backend restart without loss, duplicates or gap`, async (t) => {
    const room = `r-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    const channel = `room.${room}`;
    const context = await browser.newContext();
    const pages = {};
    try {
      await stack.publish(channel, { nick: 'srv', text: 'before-1' });
      const page = await openLiveChat(context, stack, pages, room, transport);
      const ctx = () => describe(pages);
      // One live message before the restart, typed in the page.
      await page.fill('#message', 'before-2');
      await page.click('#send');
      await waitFor(async () => (await messagesOf(page)).length === 2, { timeout: 3000, what: '2 messages before the restart' })
        .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}`));

      const oldPid = stack.holdfastPid;
      const t0 = Date.now();
      await stack.restartHoldfast();
      t.diagnostic(`holdfast ${oldPid} -> ${stack.holdfastPid} in ${Date.now() - t0} ms`);
      const after = ['after-1', 'after-2', 'after-3'];
      for (const text of after) await stack.publish(channel, { nick: 'srv', text });

      const expected = ['before-1', 'before-2', ...after];
      const t1 = Date.now();
      await waitFor(async () => (await messagesOf(page)).length >= expected.length, { timeout: 20000, what: `${expected.length} messages` })
        .catch(async (e) => assert.fail(`${e.message}\n${await ctx()}\nholdfast:\n${stack.holdfastLog()}`));
      t.diagnostic(`${transport}: the 3 messages were shown ${Date.now() - t1} ms after they were published`);
      // Give a late duplicate the chance to show up before counting.
      await waitFor(async () => (await stateOf(page)) === 'open', { timeout: 10000, what: 'state open after the restart' });
      await new Promise((r) => setTimeout(r, 500));

      const shown = await messagesOf(page);
      const ids = shown.map((m) => m.id);
      assert.equal(new Set(ids).size, ids.length, `every data-id once: ${JSON.stringify(ids)}\n${await ctx()}`);
      assert.deepEqual(shown.map((m) => m.text), expected, `messages shown\n${await ctx()}`);
      assert.deepEqual(await linesOf(page, 'gap'), [], `no gap line\n${await ctx()}`);
      assert.deepEqual(await linesOf(page, 'error'), [], `no error line\n${await ctx()}`);
      // The ids continue one epoch: 1..5 in sequence.
      const epochs = new Set(ids.map((id) => id.slice(0, id.lastIndexOf('-'))));
      assert.equal(epochs.size, 1, `one epoch across the restart: ${JSON.stringify(ids)}`);
      assert.deepEqual(ids.map((id) => Number(id.slice(id.lastIndexOf('-') + 1))), [1, 2, 3, 4, 5]);
    } finally {
      await context.close();
    }
  });
}
