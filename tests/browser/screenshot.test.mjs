// A screenshot of the chat demo with a few messages (docs/img/demo.png). Every run takes it
// (into the stack's temp dir) and checks the page it shows; HOLDFAST_UPDATE_SCREENSHOT=1 also
// writes it to docs/img/demo.png (the times in it change, so runs do not rewrite it by
// default).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { openChat, stateOf, messagesOf, waitFor, describe, REPO, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

let stack;
let browser;

before(async () => ({ stack, browser } = await openStackAndBrowser()));
after(() => closeStackAndBrowser(stack, browser));

test('screenshot of the chat demo with a few messages', async (t) => {
  const channel = 'room.lobby';
  await stack.publish(channel, { nick: 'carol', text: 'Morning! Is the new push backend live yet?' });
  await stack.publish(channel, { nick: 'dave', text: 'Yes: holdfast behind lighttpd, one held request per browser.' });
  await stack.publish(channel, { nick: 'carol', text: 'Markup stays text: <b>not bold</b> <script>alert(1)</script>' });

  const context = await browser.newContext({ viewport: { width: 900, height: 620 }, deviceScaleFactor: 1 });
  const other = await browser.newContext();
  const pages = {};
  try {
    pages.bob = await openChat(other, stack, { room: 'lobby', nick: 'bob', transport: 'ndjson' });
    pages.ann = await openChat(context, stack, { room: 'lobby', nick: 'ann' });
    const page = pages.ann;
    for (const p of Object.values(pages)) {
      await waitFor(async () => (await stateOf(p)) === 'open', { timeout: 10000, what: 'state open' })
        .catch(async (e) => assert.fail(`${e.message}\n${await describe(pages)}`));
    }
    await waitFor(async () => { const c = await stack.channel(channel); return c && c.subscribers === 2; }, { timeout: 5000, what: '2 subscribers' });
    await pages.bob.fill('#message', 'Reconnects resume from the cursor, so nothing is lost.');
    await pages.bob.click('#send');
    await waitFor(async () => (await messagesOf(page)).length === 4, { timeout: 3000, what: "bob's message" });
    await page.bringToFront();
    await page.fill('#message', 'Nice, it arrived here in a few milliseconds.');
    await page.click('#send');
    await waitFor(async () => (await messagesOf(page)).length === 5, { timeout: 3000, what: "ann's message" })
      .catch(async (e) => assert.fail(`${e.message}\n${await describe(pages)}`));
    await page.fill('#message', 'typing…');
    await page.evaluate(() => document.activeElement && document.activeElement.blur());

    const shown = await messagesOf(page);
    assert.deepEqual(shown.map((m) => m.nick), ['carol', 'dave', 'carol', 'bob', 'ann']);
    assert.equal(await page.textContent('#active-transport'), 'sse');
    assert.equal(await page.textContent('#room-title'), '#lobby');
    assert.equal(await page.textContent('#role'), 'leader');

    const file = path.join(stack.dir, 'demo.png');
    const png = await page.screenshot({ path: file, fullPage: false });
    assert.ok(png.length > 10000, `a real picture (${png.length} bytes)`);
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    if (process.env.HOLDFAST_UPDATE_SCREENSHOT === '1') {
      const dest = path.join(REPO, 'docs', 'img', 'demo.png');
      fs.mkdirSync(path.dirname(dest), { recursive: true });
      fs.copyFileSync(file, dest);
      t.diagnostic(`written to ${dest}`);
    }
  } finally {
    await context.close();
    await other.close();
  }
});
