// Shared helpers of the browser tests: a holdfast + lighttpd stack serving the chat demo on a
// free 127.0.0.1 port, and headless Debian Chromium driven by playwright-core.
//
// Everything lives in a temporary directory (unix sockets, state dir, docroot, configs, logs);
// every wait is bounded; processes are stopped by the PID we started them with (and killed
// by PID on exit if a test process dies early).
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SANITIZER_MARKERS = ['ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:'];
// The client bundles the demo serves (built from src/client/src; see docs/client.md).
export const CLIENT_BUNDLES = ['holdfast.js', 'holdfast.mjs'];
const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** The holdfast binary under test: $HOLDFAST_BIN, else build-asan/holdfast, else build/holdfast. */
export function holdfastBinary() {
  if (process.env.HOLDFAST_BIN) return path.resolve(process.env.HOLDFAST_BIN);
  for (const dir of ['build-asan', 'build']) {
    const p = path.join(REPO, dir, 'holdfast');
    if (isExecutable(p)) return p;
  }
  return path.join(REPO, 'build', 'holdfast');
}

function isExecutable(p) {
  try { fs.accessSync(p, fs.constants.X_OK); return fs.statSync(p).isFile(); } catch { return false; }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn() until it returns a truthy value (returned) or `timeout` ms pass (throws). */
export async function waitFor(fn, { timeout = 5000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
    }
    await sleep(interval);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function connectable(opts) {
  return new Promise((resolve) => {
    const c = net.connect(opts);
    const done = (ok) => { c.destroy(); resolve(ok); };
    c.once('connect', () => done(true));
    c.once('error', () => done(false));
    c.setTimeout(1000, () => done(false));
  });
}

function render(template, out, values) {
  let text = fs.readFileSync(template, 'utf8');
  for (const [k, v] of Object.entries(values)) text = text.split(`@${k}@`).join(String(v));
  const code = text.split('\n').filter((l) => !l.trimStart().startsWith('#')).join('\n');
  const left = code.match(/@[A-Z_]+@/g);
  if (left) throw new Error(`${template}: placeholders left after rendering: ${left.join(', ')}`);
  fs.writeFileSync(out, text);
  return out;
}

function hardFdLimit() {
  // `ulimit -Hn` of a shell started like lighttpd will be: the limit lighttpd gets.
  return new Promise((resolve) => {
    execFile('bash', ['-c', 'ulimit -Hn'], { timeout: 5000 }, (err, stdout) => {
      const v = String(stdout || '').trim();
      resolve(err || v === 'unlimited' || !/^\d+$/.test(v) ? 1 << 20 : parseInt(v, 10));
    });
  });
}

// Children still running when this process exits are killed by PID (never by name).
const live = new Set();
process.on('exit', () => { for (const child of live) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } } });

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), ms);
    child.once('exit', () => { clearTimeout(t); resolve(true); });
  });
}

/** SIGTERM by PID, wait up to `ms`, then SIGKILL. Returns {code, signal, killed}. */
async function stopChild(child, ms = 5000) {
  if (!child) return null;
  let killed = false;
  if (child.exitCode === null && child.signalCode === null) {
    try { process.kill(child.pid, 'SIGTERM'); } catch { /* already gone */ }
    if (!(await waitExit(child, ms))) {
      killed = true;
      try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ }
      await waitExit(child, 5000);
    }
  }
  live.delete(child);
  return { code: child.exitCode, signal: child.signalCode, killed };
}

/**
 * Starts holdfast (unix sockets, publish key, --client-publish 'room.*', state dir,
 * --heartbeat 2) and lighttpd serving a copy of deploy/demo plus the built client bundles
 * (src/client/dist/holdfast.js as /holdfast.js, holdfast.mjs as /holdfast.mjs).
 * Returns the stack: {port, url, key, dir, docroot, holdfastPid, ctl(), stats(), channel(), publish(),
 * restartHoldfast(), stop()}.
 */
export async function startStack({ holdfastArgs = [] } = {}) {
  const binary = holdfastBinary();
  if (!isExecutable(binary)) {
    throw new Error(`holdfast binary not found at ${binary}: build it (scripts/build) or set HOLDFAST_BIN`);
  }
  const ctlBinary = path.join(path.dirname(binary), 'holdfastctl');
  if (!isExecutable(ctlBinary)) throw new Error(`holdfastctl not found next to ${binary}`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-browser-'));
  const docroot = path.join(dir, 'www');
  fs.cpSync(path.join(REPO, 'deploy', 'demo'), docroot, { recursive: true });
  for (const bundle of CLIENT_BUNDLES) {
    fs.copyFileSync(path.join(REPO, 'src', 'client', 'dist', bundle), path.join(docroot, bundle));
  }
  const controlSock = path.join(dir, 'control.sock');
  const dataSock = path.join(dir, 'data.sock');
  const key = crypto.randomBytes(18).toString('base64url');
  const port = await freePort();

  const maxFds = Math.min(await hardFdLimit(), 4096);
  const fragment = render(path.join(REPO, 'deploy', 'lighttpd', 'holdfast.conf'), path.join(dir, 'holdfast.conf'),
    { CONTROL_SOCKET: controlSock, DATA_SOCKET: dataSock });
  const conf = render(path.join(REPO, 'deploy', 'lighttpd', 'lighttpd.conf'), path.join(dir, 'lighttpd.conf'), {
    PORT: port, DOCROOT: docroot, TMPDIR: dir, HOLDFAST_CONF: fragment,
    MAX_FDS: maxFds, MAX_CONNECTIONS: Math.floor(maxFds / 2), MAX_WORKER: 0
  });

  const hfArgs = ['--control', `unix:${controlSock}`, '--data', `unix:${dataSock}`, '--publish-key', key,
    '--client-publish', 'room.*', '--state-dir', path.join(dir, 'state'), '--heartbeat', '2', ...holdfastArgs];
  const hfErr = path.join(dir, 'holdfast.stderr');
  const problems = [];
  let holdfast = null;
  let successorPid = null; // a hand-over successor: not our child, stopped by PID
  let lighttpd = null;
  let runs = 0;

  async function startHoldfast() {
    runs++;
    const err = fs.openSync(hfErr, 'a');
    fs.writeSync(err, `--- holdfast run ${runs}\n`);
    const env = { ...process.env };
    env.ASAN_OPTIONS ??= 'detect_leaks=1:abort_on_error=0';
    env.UBSAN_OPTIONS ??= 'print_stacktrace=1';
    holdfast = spawn(binary, hfArgs, { cwd: dir, env, stdio: ['ignore', err, err] });
    fs.closeSync(err);
    live.add(holdfast);
    const deadline = Date.now() + 10000;
    for (;;) {
      if (holdfast.exitCode !== null || holdfast.signalCode !== null) {
        throw new Error(`holdfast exited (${holdfast.exitCode ?? holdfast.signalCode}) at start:\n${tail(hfErr)}`);
      }
      if (await connectable({ path: controlSock }) && await connectable({ path: dataSock })) return;
      if (Date.now() > deadline) throw new Error(`holdfast did not open its sockets within 10 s:\n${tail(hfErr)}`);
      await sleep(20);
    }
  }

  async function stopSuccessor() {
    if (!successorPid) return;
    const pid = successorPid;
    successorPid = null;
    try { process.kill(pid, 'SIGTERM'); } catch { return; }
    const gone = () => { try { process.kill(pid, 0); return false; } catch { return true; } };
    try {
      await waitFor(gone, { timeout: 5000, what: `hand-over successor ${pid} to exit` });
    } catch {
      problems.push(`hand-over successor ${pid} did not exit within 5 s of SIGTERM (killed)`);
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  async function stopHoldfast() {
    await stopSuccessor();
    const r = await stopChild(holdfast, 5000);
    holdfast = null;
    if (!r) return;
    if (r.killed) problems.push('holdfast did not exit within 5 s of SIGTERM (killed)');
    else if (r.code !== 0) problems.push(`holdfast exited with ${r.code ?? r.signal} after SIGTERM`);
  }

  async function startLighttpd() {
    const out = fs.openSync(path.join(dir, 'lighttpd.out'), 'a');
    lighttpd = spawn('lighttpd', ['-D', '-f', conf], { cwd: dir, stdio: ['ignore', out, out] });
    fs.closeSync(out);
    live.add(lighttpd);
    const deadline = Date.now() + 10000;
    for (;;) {
      if (lighttpd.exitCode !== null || lighttpd.signalCode !== null) {
        throw new Error(`lighttpd exited at start:\n${tail(path.join(dir, 'lighttpd.out'))}${tail(path.join(dir, 'lighttpd-error.log'))}`);
      }
      if (await connectable({ host: '127.0.0.1', port })) return;
      if (Date.now() > deadline) throw new Error('lighttpd did not listen within 10 s');
      await sleep(20);
    }
  }

  const url = `http://127.0.0.1:${port}`;
  const stack = {
    dir, docroot, port, url, key, controlSock, dataSock,
    get holdfastPid() { return holdfast && holdfast.pid; },

    /** URL of the demo page with these query parameters. */
    page(params) { return `${url}/?${new URLSearchParams(params)}`; },

    /** holdfastctl over the control socket: resolves {code, stdout, stderr}. */
    ctl(...args) {
      return new Promise((resolve) => {
        execFile(ctlBinary, ['--control', `unix:${controlSock}`, '--key', key, ...args], { timeout: 10000 },
          (err, stdout, stderr) => resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
      });
    },

    /** Publishes JSON `data` to `channel` with holdfastctl; throws unless it succeeded. */
    async publish(channel, data) {
      const r = await stack.ctl('publish', channel, JSON.stringify(data));
      if (r.code !== 0) throw new Error(`holdfastctl publish ${channel} failed (${r.code}): ${r.stdout}${r.stderr}`);
      return JSON.parse(r.stdout);
    },

    /** GET <ctl>/stats through lighttpd with the key. */
    async stats() {
      const res = await fetch(`${url}/push/ctl/stats`, { headers: { Authorization: `Bearer ${key}` } });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`GET /push/ctl/stats: ${res.status} ${text}`);
      return JSON.parse(text);
    },

    /** GET <ctl>/channels/<ch> through lighttpd; null on 404. */
    async channel(name) {
      const res = await fetch(`${url}/push/ctl/channels/${name}`, { headers: { Authorization: `Bearer ${key}` } });
      const text = await res.text();
      if (res.status === 404) return null;
      if (res.status !== 200) throw new Error(`GET /push/ctl/channels/${name}: ${res.status} ${text}`);
      return JSON.parse(text);
    },

    /** SIGTERM holdfast, wait for it to exit, start it again (same sockets and state dir). */
    async restartHoldfast() {
      await stopHoldfast();
      await startHoldfast();
    },

    /** SIGUSR2 (hand-over, docs/operations.md): waits until a successor serves the control
     *  socket and the old process exited 0. Resolves the successor's pid. */
    async handoverHoldfast() {
      const serving = async () => {
        const r = await stack.ctl('health');
        return r.code === 0 ? JSON.parse(r.stdout).pid : null;
      };
      const old = successorPid ?? holdfast.pid;
      process.kill(old, 'SIGUSR2');
      let pid = null;
      await waitFor(async () => { pid = await serving(); return pid && pid !== old; },
        { timeout: 10000, what: 'a hand-over successor serving' });
      if (old === holdfast?.pid) {
        await waitExit(holdfast, 6000); // it drains and exits by itself
        const r = await stopChild(holdfast, 5000);
        if (r && (r.killed || r.code !== 0)) problems.push(`holdfast exited with ${r.code ?? r.signal} after the hand-over`);
      } else {
        await waitFor(() => { try { process.kill(old, 0); return false; } catch { return true; } },
          { timeout: 6000, what: `process ${old} to exit after its hand-over` });
      }
      successorPid = pid;
      return pid;
    },

    holdfastLog() { return tail(hfErr, 8000); },

    /** Stops lighttpd and holdfast by PID; returns a list of problems (exit codes, sanitizer
     *  reports in holdfast's stderr). Removes the temp dir when there were none. */
    async stop() {
      await stopChild(lighttpd, 5000);
      lighttpd = null;
      await stopHoldfast();
      const log = readOr(hfErr);
      for (const m of SANITIZER_MARKERS) {
        const i = log.indexOf(m);
        if (i >= 0) problems.push(`sanitizer report in holdfast's stderr: ${log.slice(log.lastIndexOf('\n', i) + 1).split('\n')[0]}`);
      }
      if (problems.length) problems.push(`holdfast stderr tail (${dir}):\n${tail(hfErr)}`);
      else fs.rmSync(dir, { recursive: true, force: true });
      return problems;
    }
  };

  try {
    await startHoldfast();
    await startLighttpd();
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}

function readOr(p) { try { return fs.readFileSync(p, 'utf8'); } catch { return ''; } }
function tail(p, n = 4000) { return readOr(p).slice(-n); }

/** Headless Debian Chromium (never a downloaded browser). */
export function launchBrowser() {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 30000 });
}

/**
 * Opens the demo in `context` with URL parameters; records console messages, page errors and
 * dialogs on the returned page (page.logs, page.dialogs). Waits until the page has joined.
 */
export async function openChat(context, stack, params) {
  const page = await context.newPage();
  page.logs = [];
  page.dialogs = [];
  page.on('console', (m) => page.logs.push(`[${m.type()}] ${m.text()}`));
  page.on('pageerror', (e) => page.logs.push(`[pageerror] ${e.message}`));
  page.on('dialog', (d) => { page.dialogs.push(`${d.type()}: ${d.message()}`); d.dismiss().catch(() => {}); });
  await page.goto(stack.page(params), { waitUntil: 'load', timeout: 10000 });
  await page.waitForFunction((room) => document.body.getAttribute('data-room') === room, params.room, { timeout: 5000 });
  return page;
}

/**
 * Opens the demo for `room` in `context` as pages.page (one tab, no sharing, `transport`) and
 * waits until it is open and holdfast holds its one subscriber on room.<room>; a timeout fails
 * with describe(pages).
 */
export async function openLiveChat(context, stack, pages, room, transport) {
  pages.page = await openChat(context, stack, { room, nick: 'ann', transport, share: '0' });
  await waitFor(async () => (await stateOf(pages.page)) === 'open', { timeout: 10000, what: 'state open' })
    .catch(async (e) => { throw new Error(`${e.message}\n${await describe(pages)}`); });
  const channel = `room.${room}`;
  await waitFor(async () => { const c = await stack.channel(channel); return c && c.subscribers === 1; },
    { timeout: 5000, what: `a subscriber on ${channel}` });
  return pages.page;
}

/** #state's data-state of a page. */
export function stateOf(page) { return page.getAttribute('#state', 'data-state'); }

/** The message entries of a page's log: [{id, nick, text}]. */
export function messagesOf(page) {
  return page.$$eval('#log li[data-kind=message]', (lis) => lis.map((li) => ({
    id: li.getAttribute('data-id'),
    nick: li.querySelector('.nick') && li.querySelector('.nick').textContent,
    text: li.querySelector('.text') && li.querySelector('.text').textContent
  })));
}

/** Lines of a kind (gap, error, system) in a page's log, as text. */
export function linesOf(page, kind) {
  return page.$$eval(`#log li[data-kind=${kind}]`, (lis) => lis.map((li) => li.textContent));
}

/** Diagnostics for a failure message: state, transport, role, log lines and console of pages. */
export async function describe(pages) {
  const out = [];
  for (const [name, page] of Object.entries(pages)) {
    if (!page || page.isClosed()) { out.push(`${name}: closed`); continue; }
    const info = await page.evaluate(() => ({
      state: document.getElementById('state').getAttribute('data-state'),
      transport: document.getElementById('active-transport').textContent,
      role: document.getElementById('role').textContent,
      log: Array.from(document.querySelectorAll('#log li')).map((li) => `${li.getAttribute('data-kind')} ${li.getAttribute('data-id') || ''} ${li.textContent}`)
    })).catch((e) => ({ error: e.message }));
    out.push(`${name}: ${JSON.stringify(info, null, 1)}\n  console:\n    ${(page.logs || []).join('\n    ')}`);
  }
  return out.join('\n');
}

// One stack and one browser for a test file: `before(async () => ({ stack, browser } = await
// openStackAndBrowser()))` and `after(() => closeStackAndBrowser(stack, browser))`. Closing
// fails the file if holdfast exited badly or printed a sanitizer report.
export async function openStackAndBrowser(options) {
  const stack = await startStack(options);
  try {
    return { stack, browser: await launchBrowser() };
  } catch (e) {
    await stack.stop();
    throw e;
  }
}

export async function closeStackAndBrowser(stack, browser) {
  if (browser) await browser.close();
  if (stack) {
    const problems = await stack.stop();
    if (problems.length) throw new Error(problems.join('\n'));
  }
}
