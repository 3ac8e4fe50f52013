// Reconnect backoff: exponential ceiling with a cap, full jitter (src/client/src/backoff.js).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffCeiling, backoffDelay } from '../../src/client/src/backoff.js';

test('ceiling doubles from the base and stops at the cap', () => {
  const o = { base: 500, cap: 30000 };
  assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((n) => backoffCeiling(n, o)),
    [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
  assert.equal(backoffCeiling(1e6, o), 30000, 'huge attempts do not overflow');
  assert.equal(backoffCeiling(-3, o), 500, 'negative attempts count as the first');
});

test('defaults: base 1 s, cap 30 s', () => {
  assert.equal(backoffCeiling(0), 1000);
  assert.equal(backoffCeiling(20), 30000);
});

test('full jitter: delay = floor(random * ceiling), always within [0, ceiling)', () => {
  const o = (r) => ({ base: 1000, cap: 30000, random: () => r });
  assert.equal(backoffDelay(0, o(0)), 0);
  assert.equal(backoffDelay(3, o(0.5)), 4000);
  assert.equal(backoffDelay(3, o(0.25)), 2000);
  assert.equal(backoffDelay(10, o(0.5)), 15000);
  assert.ok(backoffDelay(3, o(0.9999999)) < 8000);
  assert.ok(backoffDelay(3, o(1)) < 8000, 'a random() of exactly 1 stays below the ceiling');
  assert.equal(backoffDelay(3, o(-1)), 0);
  assert.equal(backoffDelay(3, o(NaN)), 0);
});

test('with the real random source every delay stays in range', () => {
  for (let attempt = 0; attempt < 12; attempt++) {
    const ceiling = backoffCeiling(attempt);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(attempt);
      assert.ok(Number.isInteger(d) && d >= 0 && d < ceiling, `attempt ${attempt}: ${d}`);
    }
  }
});

test('jitter spreads delays (not a constant)', () => {
  const seq = [0.1, 0.6, 0.3];
  let i = 0;
  const o = { base: 1000, cap: 30000, random: () => seq[i++ % seq.length] };
  assert.deepEqual([backoffDelay(2, o), backoffDelay(2, o), backoffDelay(2, o)], [400, 2400, 1200]);
});
