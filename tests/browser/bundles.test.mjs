// The built client bundles in real Chromium, each loaded the way a page would: the classic
// script (src/client/dist/holdfast.js, what the demo uses) defines window.Holdfast, and the ES
// module bundle (holdfast.mjs) imported by a module script subscribes and publishes the same.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { REPO, waitFor, openStackAndBrowser, closeStackAndBrowser } from './stack.mjs';

const VERSION = JSON.parse(fs.readFileSync(path.join(REPO, 'src', 'client', 'package.json'), 'utf8')).version;

// A page that imports the ES module bundle, subscribes to ?channel= with ?transport= and
// records messages and states on window.hf.
const ESM_PAGE = `<!doctype html>
<meta charset="utf-8">
<title>holdfast.mjs</title>
<script type="module">
  import Holdfast, { Client, VERSION } from '/holdfast.mjs';
  const q = new URLSearchParams(location.search);
  const hf = window.hf = { version: VERSION, same: Holdfast.Client === Client, hasGlobal: 'Holdfast' in window,
    messages: [], states: [] };
  const client = new Client({ base: '/push', shareTabs: false });
  hf.client = client;
  hf.sub = client.subscribe('room.' + q.get('room'), {
    transport: q.get('transport'), last: 10,
    onMessage: (m) => hf.messages.push(m.data),
    onState: (s) => hf.states.push(s),
  });
</script>
`;

let stack;
let browser;

before(async () => {
  ({ stack, browser } = await openStackAndBrowser());
  fs.writeFileSync(path.join(stack.docroot, 'esm.html'), ESM_PAGE);
});
after(() => closeStackAndBrowser(stack, browser));

test('classic bundle: the demo page gets window.Holdfast of this version', async () => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await page.goto(stack.page({ room: 'bundles', nick: 'ann' }), { waitUntil: 'load', timeout: 10000 });
    const info = await page.evaluate(() => ({
      version: window.Holdfast && window.Holdfast.VERSION,
      client: typeof (window.Holdfast && window.Holdfast.Client),
      transports: window.Holdfast && window.Holdfast.TRANSPORTS,
    }));
    assert.deepEqual(info, { version: VERSION, client: 'function',
      transports: ['sse', 'longpoll', 'jsonp', 'iframe', 'multipart', 'ndjson', 'poll'] });
  } finally {
    await context.close();
  }
});

for (const transport of ['sse', 'longpoll']) {
  test(`ES module bundle (${transport}): history and a live message arrive, publish works`, async () => {
    const room = `esm-${transport}-${crypto.randomBytes(3).toString('hex')}`;
    await stack.publish(`room.${room}`, { text: 'history' });
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const logs = [];
      page.on('console', (m) => logs.push(`[${m.type()}] ${m.text()}`));
      page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
      await page.goto(`${stack.url}/esm.html?${new URLSearchParams({ room, transport })}`, { waitUntil: 'load', timeout: 10000 });
      const hf = () => page.evaluate(() => window.hf && {
        version: window.hf.version, same: window.hf.same, hasGlobal: window.hf.hasGlobal,
        messages: window.hf.messages, state: window.hf.sub.state, transport: window.hf.sub.transport,
      });
      const what = async (w) => `${w}: ${JSON.stringify(await hf())}\n${logs.join('\n')}`;
      await waitFor(async () => { const h = await hf(); return h && h.state === 'open'; }, { timeout: 10000, what: 'state open' })
        .catch(async (e) => assert.fail(await what(e.message)));
      const first = await hf();
      assert.equal(first.version, VERSION);
      assert.equal(first.same, true, 'default export and named exports are the same values');
      assert.equal(first.hasGlobal, false, 'the ES module bundle defines no global');
      assert.equal(first.transport, transport);

      await stack.publish(`room.${room}`, { text: 'live' });
      const res = await page.evaluate((ch) => window.hf.client.publish(ch, { text: 'from page' }), `room.${room}`);
      assert.ok(res.status === 201 || res.status === 202, JSON.stringify(res));
      await waitFor(async () => (await hf()).messages.length >= 3, { timeout: 5000, what: '3 messages' })
        .catch(async (e) => assert.fail(await what(e.message)));
      assert.deepEqual((await hf()).messages.map((m) => m.text), ['history', 'live', 'from page']);
    } finally {
      await context.close();
    }
  });
}
