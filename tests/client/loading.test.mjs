// The one source file works as a plain <script> (sets globalThis.Holdfast, no module syntax)
// and as an ES module through holdfast.mjs (same object).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';
import Holdfast, { Client } from '../../src/client/holdfast.mjs';

const source = readFileSync(new URL('../../src/client/holdfast.js', import.meta.url), 'utf8');

test('as a classic script in a browser-like global it defines Holdfast', () => {
  const sandbox = { console, setTimeout, clearTimeout };
  sandbox.globalThis = sandbox;
  vm.createContext(sandbox);
  vm.runInContext(source, sandbox, { filename: 'holdfast.js' });
  assert.equal(typeof sandbox.Holdfast, 'object');
  assert.equal(typeof sandbox.Holdfast.Client, 'function');
  assert.equal(sandbox.Holdfast.formatCursor('a:E-1'), 'a:E-1');
});

test('has no import/export statements (a classic script would reject them)', () => {
  assert.doesNotMatch(source, /^\s*(import|export)\s/m);
  assert.doesNotThrow(() => new vm.Script(source));
});

test('the ES module re-exports the same object', () => {
  assert.equal(Holdfast, globalThis.Holdfast);
  assert.equal(Client, Holdfast.Client);
  assert.ok(Holdfast.VERSION);
});
