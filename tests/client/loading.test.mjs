// The built bundles (src/client/dist/): the classic script defines globalThis.Holdfast with no
// module syntax, the ES module bundle exports the same API as the sources, and the version is
// the package's. (tests/client/package.test.mjs checks that dist/ is what the sources build.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import * as sources from '../../src/client/src/index.js';
import * as bundle from '../../src/client/dist/holdfast.mjs';

const classic = readFileSync(new URL('../../src/client/dist/holdfast.js', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../src/client/package.json', import.meta.url), 'utf8'));

test('the classic bundle in a browser-like global defines Holdfast', () => {
  const sandbox = { console, setTimeout, clearTimeout };
  sandbox.globalThis = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(classic, sandbox, { filename: 'holdfast.js' });
  assert.equal(typeof sandbox.Holdfast, 'object');
  assert.equal(typeof sandbox.Holdfast.Client, 'function');
  assert.equal(sandbox.Holdfast.formatCursor('a:E-1'), 'a:E-1');
  assert.deepEqual(Object.keys(sandbox.Holdfast).sort(), Object.keys(sources.default).sort());
});

test('the classic bundle has no import/export statements (a classic script would reject them)', () => {
  assert.doesNotMatch(classic, /^\s*(import|export)\s/m);
  assert.doesNotThrow(() => new vm.Script(classic));
});

test('the ES module bundle exports what the sources export, and its default holds them all', () => {
  const names = (m) => Object.keys(m).filter((k) => k !== 'default').sort();
  assert.deepEqual(names(bundle), names(sources));
  assert.deepEqual(Object.keys(bundle.default).sort(), names(sources));
  for (const k of names(bundle)) assert.equal(bundle.default[k], bundle[k], k);
  assert.deepEqual(bundle.TRANSPORTS, ['sse', 'longpoll', 'jsonp', 'iframe', 'multipart', 'ndjson', 'poll']);
});

test('VERSION is the package version', () => {
  assert.equal(sources.VERSION, pkg.version);
  assert.equal(bundle.VERSION, pkg.version);
});
