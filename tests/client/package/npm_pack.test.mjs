// The client as an npm package (src/client): the committed bundles are what the sources build
// (byte for byte), and `npm pack` gives a tarball that a scratch project installs, imports as
// an ES module, loads as a classic script, and type-checks against under `tsc --strict`.
// Needs src/client's dev dependencies (npm ci in src/client; scripts/test does it). No
// registry access: the tarball has no dependencies and is installed with --offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLIENT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'src', 'client');
const TSC = path.join(CLIENT, 'node_modules', 'typescript', 'bin', 'tsc');
const pkg = JSON.parse(fs.readFileSync(path.join(CLIENT, 'package.json'), 'utf8'));

let tmp;
let tarball;
let packedFiles;
let app;

// Runs a command, failing the test with its output when it exits non-zero.
function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 120000, env: { ...process.env, npm_config_update_notifier: 'false' } });
  const out = `${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.status ?? r.signal ?? r.error}:\n${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, out);
  return r.stdout;
}

before(() => {
  assert.ok(fs.existsSync(TSC), `${TSC} is missing: run npm ci in src/client`);
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-pack-'));
  const packed = JSON.parse(run('npm', ['pack', CLIENT, '--json', '--loglevel=error'], tmp));
  tarball = path.join(tmp, packed[0].filename);
  packedFiles = packed[0].files.map((f) => f.path).sort();
  app = path.join(tmp, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }));
});

after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }); });

test('the committed bundles are what the sources build (npm run build, then commit dist/)', () => {
  const out = run(process.execPath, ['build.mjs', '--check'], CLIENT);
  assert.match(out, /matches/);
});

test('npm pack ships the bundles, the types, package.json and README only', () => {
  assert.equal(path.basename(tarball), `holdfast-client-${pkg.version}.tgz`);
  assert.deepEqual(packedFiles, ['README.md', 'dist/holdfast.js', 'dist/holdfast.mjs', 'holdfast.d.ts', 'package.json']);
});

test('a scratch project installs the tarball and imports it as an ES module', () => {
  run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], app);
  fs.writeFileSync(path.join(app, 'main.mjs'), `
import Holdfast, { Client, VERSION, parseCursor, formatCursor, TRANSPORTS } from 'holdfast-client';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import vm from 'node:vm';
const client = new Client({ base: 'http://127.0.0.1:9/push', shareTabs: false });
const classic = createRequire(import.meta.url).resolve('holdfast-client/classic');
const sandbox = {};
sandbox.globalThis = sandbox;
vm.runInNewContext(fs.readFileSync(classic, 'utf8'), sandbox);
console.log(JSON.stringify({
  version: VERSION, same: Holdfast.Client === Client, dataMount: client.dataMount,
  cursor: formatCursor(parseCursor('a:E-7,b:F-0')), transports: TRANSPORTS,
  classic: Object.keys(sandbox.Holdfast).sort().join() === Object.keys(Holdfast).sort().join(),
}));
`);
  const out = JSON.parse(run(process.execPath, ['main.mjs'], app));
  assert.deepEqual(out, {
    version: pkg.version, same: true, dataMount: 'http://127.0.0.1:9/push/sub', cursor: 'a:E-7,b:F-0',
    transports: ['sse', 'longpoll', 'jsonp', 'iframe', 'multipart', 'ndjson', 'poll'], classic: true,
  });
});

const CONSUMER = `
import Holdfast, { Client, Subscription, parseCursor, type Message, type Gap, type SubscriptionState } from 'holdfast-client';

interface Chat { nick: string; text: string }

const client = new Client({ base: '/push', backoff: { base: 500, cap: 10000 }, credentials: 'include' });
const sub: Subscription = client.subscribe<Chat>(['room.a', 'room.b'], {
  transport: 'sse',
  last: 50,
  onMessage(msg: Message<Chat>, s: Subscription) { const text: string = msg.data.text; void text; void s.cursor; },
  onGap(gap: Gap) { const reason: string = gap.reason; void reason; },
  onState(state: SubscriptionState, info) { if (info.transport === 'longpoll' && state === 'open') void info.session; },
  onError(err) { if (err.fatal) console.error(err.status, err.code); },
});
const cursor: string = sub.cursor;
const seq: string | undefined = parseCursor(cursor).get('room.a')?.seq;
void seq;
client.publish('room.a', { nick: 'ann', text: 'hi' }, { event: 'chat' }).then((res) => {
  const status: number = res.status;
  void status;
});
const version: string = Holdfast.VERSION;
void version;
// @ts-expect-error: not a transport
client.subscribe('room.a', { transport: 'pigeon' });
// @ts-expect-error: onMessage gets a Message, not a string
client.subscribe('room.a', { onMessage: (m: string) => m });
sub.close();
`;

for (const [resolution, moduleKind] of [['nodenext', 'nodenext'], ['bundler', 'esnext']]) {
  test(`a consumer type-checks under tsc --strict (moduleResolution ${resolution})`, () => {
    assert.ok(fs.existsSync(path.join(app, 'node_modules', 'holdfast-client')), 'the tarball was installed');
    const dir = path.join(app, `ts-${resolution}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'consumer.ts'), CONSUMER);
    fs.writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, module: moduleKind, moduleResolution: resolution, target: 'es2020',
        lib: ['es2020', 'dom'], types: [], skipLibCheck: false, verbatimModuleSyntax: false },
      files: ['consumer.ts'],
    }));
    run(process.execPath, [TSC, '-p', 'tsconfig.json', '--strict', '--noEmit'], dir);
  });
}
