// The dedupe window that keeps a resent message from showing twice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDedupe } from '../../src/client/src/dedupe.js';

test('a key is new once, then seen', () => {
  const d = createDedupe(10);
  assert.equal(d.seen('room\nE-1'), false);
  assert.equal(d.seen('room\nE-1'), true);
  assert.equal(d.seen('room\nE-2'), false);
  assert.equal(d.seen('other\nE-1'), false, 'same id on another channel is another message');
  assert.equal(d.size, 3);
});

test('the window is bounded: the oldest keys are forgotten first', () => {
  const d = createDedupe(3);
  ['a', 'b', 'c', 'd'].forEach((k) => assert.equal(d.seen(k), false));
  assert.equal(d.size, 3);
  assert.equal(d.has('a'), false, 'a fell out of the window');
  assert.equal(d.has('b'), true);
  assert.equal(d.seen('d'), true);
  assert.equal(d.seen('a'), false, 'a forgotten key counts as new again');
});

test('a large window still remembers everything inside it', () => {
  const d = createDedupe(1000);
  for (let i = 0; i < 1000; i++) d.seen('k' + i);
  for (let i = 0; i < 1000; i++) assert.equal(d.has('k' + i), true);
  d.seen('k1000');
  assert.equal(d.has('k0'), false);
  assert.equal(d.size, 1000);
});
